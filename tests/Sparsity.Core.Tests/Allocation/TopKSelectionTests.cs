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

    [Fact]
    public void KOutOfRangeIsRejected()
    {
        using var scores = tensor(new[] { 1f, 2f });
        var act = () => TopKSelection.KeepTopK(scores, 3);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }
}
