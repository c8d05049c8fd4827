namespace Sparsity.Tests.Allocation;

public sealed class ErkAllocationTests
{
    // conv [2,1,3,3] (n = 18), fc1 [4,8] (n = 32), fc2 [3,4] (n = 12): 62 weights.
    private static readonly long[][] Shapes = [[2, 1, 3, 3], [4, 8], [3, 4]];

    private static ScoreSet Scores() => TestModels.Scores(
        ("conv", Enumerable.Range(0, 18).Select(i => (float)i).ToArray(), Shapes[0]),
        ("fc1", Enumerable.Range(0, 32).Select(i => (float)i).ToArray(), Shapes[1]),
        ("fc2", Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), Shapes[2]));

    [Fact]
    public void DensitiesFollowTheFormulaWhenNoLayerSaturates()
    {
        // Raw ERK factors (Σ dims / Π dims): 9/18, 12/32, 7/12. Target 31 kept at s = 0.5.
        // ε = 31 / (0.5·18 + 0.375·32 + (7/12)·12) = 31 / 28.
        double epsilon = 31.0 / 28.0;
        var expected = new[] { 0.5 * epsilon, 0.375 * epsilon, 7.0 / 12.0 * epsilon };
        ErkAllocation.Densities(Shapes, 0.5).Should().BeEquivalentTo(expected, o => o.WithStrictOrdering()
            .Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());

        // Counts: 9.96, 13.29, 7.75 → floors 9, 13, 7 (29); the 2 missing go to the largest fractions (conv, fc2).
        using var scores = Scores();
        new ErkAllocation().KeptCounts(scores, 0.5).Values.Should().Equal(10L, 13L, 8L);
    }

    [Fact]
    public void SaturatedLayersBecomeDenseAndEpsilonIsSolvedAgain()
    {
        // s = 0.1, target 56 kept. fc2 (largest raw factor) would exceed density 1, then conv; both go dense:
        // ε = (32·0.9 − (12 + 18)·0.1) / (0.375·32) = 25.8 / 12 = 2.15, fc1 density 0.375·2.15 = 0.80625.
        ErkAllocation.Densities(Shapes, 0.1).Should().BeEquivalentTo(new[] { 1.0, 0.80625, 1.0 }, o => o.WithStrictOrdering()
            .Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
        using var scores = Scores();
        new ErkAllocation().KeptCounts(scores, 0.1).Values.Should().Equal(18L, 26L, 12L);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.8)]
    [InlineData(0.95)]
    public void TotalIsExactAndMasksKeepTopScores(double sparsity)
    {
        using var scores = Scores();
        using var masks = new ErkAllocation().Allocate(scores, sparsity);
        masks.KeptCount.Should().Be(SparsityBudget.KeptCount(62, sparsity));
        foreach (var layer in masks.Layers)
        {
            layer.Kept.Should().BeGreaterThan(0);
            // Scores are 0..n−1, so the kept ones are the last `Kept` indices.
            var bits = TestModels.Bits(masks[layer.Name]);
            bits.Skip((int)(layer.Total - layer.Kept)).Should().OnlyContain(b => b);
            bits.Take((int)(layer.Total - layer.Kept)).Should().OnlyContain(b => !b);
        }
    }

    [Fact]
    public void TooHighSparsityForOneWeightPerLayerIsRejected()
    {
        using var scores = Scores();
        var act = () => new ErkAllocation().Allocate(scores, 0.99); // keeps 1 weight of 62
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sparsity");
    }

    [Theory]
    [InlineData(0.9, KeptCountRounding.PyTorch, 6)]
    [InlineData(0.9, KeptCountRounding.LotteryJackpots, 6)]
    [InlineData(0.9, KeptCountRounding.FloorPruned, 7)]
    [InlineData(0.1, KeptCountRounding.PyTorch, 56)]
    [InlineData(0.1, KeptCountRounding.LotteryJackpots, 55)]
    [InlineData(0.1, KeptCountRounding.FloorPruned, 56)]
    public void RoundingFixesTheTotal(double sparsity, KeptCountRounding rounding, long kept)
    {
        // Totals of 62 weights from Python: 62 − round(62·p), int(62·(1 − p)), 62 − ⌊62·p⌋.
        using var scores = Scores();
        var allocation = new ErkAllocation(rounding: rounding);
        allocation.Rounding.Should().Be(rounding);
        allocation.KeptCounts(scores, sparsity).Values.Sum().Should().Be(kept);
        using var masks = allocation.Allocate(scores, sparsity);
        masks.KeptCount.Should().Be(kept);
    }
}
