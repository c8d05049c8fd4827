using static TorchSharp.torch;

namespace Sparsity.Tests.Allocation;

public sealed class TopKSelectionTests
{
    [Fact]
    public void EqualsANaiveStableSortOnRandomInputsWithManyTies()
    {
        var rng = new Random(12345);
        for (int trial = 0; trial < 500; trial++)
        {
            int n = rng.Next(1, 60);
            int k = rng.Next(0, n + 1);
            var values = Enumerable.Range(0, n).Select(_ => (float)rng.Next(0, 5)).ToArray();
            var expected = new bool[n];
            foreach (var i in Enumerable.Range(0, n).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k))
            {
                expected[i] = true;
            }

            using var scores = tensor(values);
            using var mask = TopKSelection.KeepTopK(scores, k);
            TestModels.Bits(mask).Should().Equal(expected, $"trial {trial}, n {n}, k {k}");
        }
    }

    [Theory]
    [InlineData("uniform", 1)]
    [InlineData("uniform", 1_500_000)]
    [InlineData("ties", 700_000)]
    [InlineData("skewed", 150_000)]
    [InlineData("skewed", 2_999_999)]
    [InlineData("float64", 1_234_567)]
    [InlineData("extreme", 10)]
    public void HistogramPreselectionFindsTheSameKthLargestAsAFullSelection(string kind, long k)
    {
        const long n = 3_000_000;
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var values = kind switch
        {
            "uniform" => rand(n, generator: generator),
            "ties" => randint(0, 50, n, generator: generator).to(ScalarType.Float32),
            "skewed" => rand(n, generator: generator).pow(40),                      // almost everything in the lowest bin
            "float64" => randn(n, generator: generator, dtype: ScalarType.Float64),
            _ => cat([rand(n - 2, generator: generator), tensor(new[] { 1e30f, -1e30f })]), // two far outliers
        };

        n.Should().BeGreaterThan(TopKSelection.HistogramThreshold);
        var expected = values.kthvalue(n - k + 1, 0).values;
        var actual = TopKSelection.KthLargest(values, k);

        actual.to(ScalarType.Float64).item<double>().Should().Be(expected.to(ScalarType.Float64).item<double>());
    }

    [Fact]
    public void KOutOfRangeIsRejected()
    {
        using var scores = tensor(new[] { 1f, 2f });
        var act = () => TopKSelection.KeepTopK(scores, 3);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }
}
