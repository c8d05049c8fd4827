namespace Sparsity.Tests.Allocation;

/// <summary>
/// Quickselect against a sort, and the sample brackets against hand-computed ranks: for a sample of 0, 1, …, 4095
/// (shuffled) the rank-r value is r − 1, so the brackets must be exactly the values at q·m ∓ (6·√(m·q·(1−q)) + 2).
/// </summary>
public sealed class QuickselectTests
{
    [Fact]
    public void SmallestEqualsTheSortedValueAndPartitionsAroundIt()
    {
        var rng = new Random(5);
        var values = Enumerable.Range(0, 5_000).Select(_ => (float)rng.Next(0, 300)).ToArray(); // ties
        var sorted = values.Order().ToArray();
        foreach (var rank in new[] { 1, 2, 2_500, 4_999, 5_000 })
        {
            var copy = values.ToArray();
            Quickselect.Smallest<float>(copy, rank).Should().Be(sorted[rank - 1]);
            copy.Take(rank - 1).All(v => v <= sorted[rank - 1]).Should().BeTrue();
            copy.Skip(rank).All(v => v >= sorted[rank - 1]).Should().BeTrue();
        }
    }

    [Theory]
    [InlineData(0.9, 0)]
    [InlineData(0.5, 0)]
    [InlineData(0.9, 1)]
    public void BracketsAreTheSampleValuesAtTheMarginRanks(double q, int room)
    {
        const int m = 4096;
        var rng = new Random(9);
        var sample = Enumerable.Range(0, m).Select(i => (double)i).OrderBy(_ => rng.Next()).ToArray();
        var (lower, estimate, upper, fraction) = Quickselect.Brackets<double>(sample, q, room);

        double margin = (6 * Math.Sqrt(m * q * (1 - q))) + 2;
        int low = (int)Math.Floor((q * m) - margin), high = (int)Math.Ceiling((q * m) + margin) + room;
        lower.Should().Be(low - 1);                 // the rank-r value of 0…m−1 is r − 1
        upper.Should().Be(high - 1);
        estimate.Should().Be(Math.Round(q * m));     // rank round(q·m) + 1
        fraction.Should().BeApproximately((double)(high - low) / m, 1e-12);
    }

    [Fact]
    public void RanksOutsideTheSampleGiveInfiniteBrackets()
    {
        var sample = new[] { 3f, 1f, 2f, 5f, 4f };
        var (lower, _, upper, fraction) = Quickselect.Brackets<float>(sample, 0.5);
        lower.Should().Be(float.NegativeInfinity);
        upper.Should().Be(float.PositiveInfinity);
        fraction.Should().Be(1.0);
    }
}
