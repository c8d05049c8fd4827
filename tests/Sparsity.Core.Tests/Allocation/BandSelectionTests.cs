namespace Sparsity.Tests.Allocation;

/// <summary>
/// The band's selection against a full sort, across segments, with ties and infinities; the large kinds take the
/// sampled-brackets path (more than 32,768 values), "misleading sample" makes its brackets miss.
/// </summary>
public sealed class BandSelectionTests
{
    [Theory]
    [InlineData("continuous")]
    [InlineData("ties")]
    [InlineData("equal")]
    [InlineData("infinities")]
    [InlineData("huge range")]
    [InlineData("continuous, large")]
    [InlineData("ties, large")]
    [InlineData("misleading sample")]
    public void KthLargestEqualsTheSortedValueAndCountsWhatExceedsIt(string kind)
    {
        var rng = new Random(kind.Length);
        double[] values = kind switch
        {
            "continuous" => Enumerable.Range(0, 20_000).Select(_ => rng.NextDouble()).ToArray(),
            "ties" => Enumerable.Range(0, 20_000).Select(_ => (double)rng.Next(0, 5)).ToArray(),
            "equal" => Enumerable.Repeat(0.25, 1_000).ToArray(),
            "infinities" => Enumerable.Range(0, 5_000).Select(i => i % 7 == 0 ? double.NegativeInfinity : i % 11 == 0 ? double.PositiveInfinity : rng.NextDouble()).ToArray(),
            "huge range" => Enumerable.Range(0, 5_000).Select(i => i % 3 == 0 ? double.MaxValue : i % 3 == 1 ? -double.MaxValue : rng.NextDouble()).ToArray(),
            "continuous, large" => Enumerable.Range(0, 150_000).Select(_ => rng.NextDouble()).ToArray(),
            "ties, large" => Enumerable.Range(0, 150_000).Select(_ => (double)rng.Next(0, 50)).ToArray(),
            _ => Enumerable.Range(0, 4096 * 30).Select(i => i % 30 == 0 ? 1e9 : rng.NextDouble()).ToArray(), // every sampled value is the largest
        };
        var segments = new[] { new ArraySegment<double>(values, 0, values.Length / 3), new ArraySegment<double>(values, values.Length / 3, values.Length - (values.Length / 3)) };
        var sorted = values.OrderDescending().ToArray();
        foreach (var rank in new long[] { 1, 2, values.Length / 2, values.Length - 1, values.Length, rng.Next(1, values.Length + 1) })
        {
            var (value, greater) = BandSelection.KthLargest<double>(segments, rank, threads: 2);
            value.Should().Be(sorted[rank - 1], $"{kind}, rank {rank}");
            greater.Should().Be(sorted.Count(v => v > value), $"{kind}, rank {rank}");
        }
    }

    [Fact]
    public void ARankOutsideTheValuesIsRefused()
    {
        var segments = new[] { new ArraySegment<float>([1f, 2f, 3f]) };
        var act = () => BandSelection.KthLargest<float>(segments, 4, threads: 1);
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "rank");
    }
}
