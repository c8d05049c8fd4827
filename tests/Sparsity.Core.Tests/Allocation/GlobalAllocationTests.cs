namespace Sparsity.Tests.Allocation;

public sealed class GlobalAllocationTests
{
    [Fact]
    public void KeepsTheHighestScoresAcrossLayersWithTiesByFlatIndex()
    {
        // Sorted: 5 (b[1]), 3 (a[0]), then the tie 2 at flat indices 2 (a[2]), 3 (a[3]), 4 (b[0]).
        using var scores = TestModels.Scores(("a", [3f, 1f, 2f, 2f], [4]), ("b", [2f, 5f], [2]));
        using var masks = new GlobalAllocation().Allocate(scores, 0.5);
        TestModels.Bits(masks["a"]).Should().Equal(true, false, true, false);
        TestModels.Bits(masks["b"]).Should().Equal(false, true);
        masks.KeptCount.Should().Be(3);
    }

    [Fact]
    public void EmptiedLayerKeepsItsBestWeightAndTheTotalStaysExact()
    {
        using var scores = TestModels.Scores(("a", [10f, 9f, 8f, 7f], [2, 2]), ("b", [1f, 2f], [2]));
        using var guarded = new GlobalAllocation().Allocate(scores, 0.5);
        TestModels.Bits(guarded["a"]).Should().Equal(true, true, false, false);
        TestModels.Bits(guarded["b"]).Should().Equal(false, true);
        guarded["a"].shape.Should().Equal(2L, 2L);

        using var unguarded = new GlobalAllocation(allowEmptyLayers: true).Allocate(scores, 0.5);
        TestModels.Bits(unguarded["a"]).Should().Equal(true, true, true, false);
        TestModels.Bits(unguarded["b"]).Should().Equal(false, false);
    }

    [Fact]
    public void GuardBreaksTiesDeterministically()
    {
        // All of a ties: kept a[0..2]; b gets b[0] (lowest index among its ties); the dropped weight is the
        // highest flat index among a's lowest kept scores, a[2].
        using var scores = TestModels.Scores(("a", [5f, 5f, 5f, 5f], [4]), ("b", [1f, 1f], [2]));
        using var masks = new GlobalAllocation().Allocate(scores, 0.5);
        TestModels.Bits(masks["a"]).Should().Equal(true, true, false, false);
        TestModels.Bits(masks["b"]).Should().Equal(true, false);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.29)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.97)]
    public void KeptCountIsExactAndLayersAreConsistent(double sparsity)
    {
        // 100 weights with many ties (values 0..9 repeated).
        var a = Enumerable.Range(0, 60).Select(i => (float)(i * 7 % 10)).ToArray();
        var b = Enumerable.Range(0, 40).Select(i => (float)(i * 3 % 10)).ToArray();
        using var scores = TestModels.Scores(("a", a, [60]), ("b", b, [40]));
        using var masks = new GlobalAllocation().Allocate(scores, sparsity);
        masks.KeptCount.Should().Be(100 - (long)Math.Round(sparsity * 100)); // p·100 is within 1e-14 of an integer here

        // Every kept score ≥ every pruned score (a valid top-k).
        var all = a.Concat(b).ToArray();
        var bits = TestModels.Bits(masks["a"]).Concat(TestModels.Bits(masks["b"])).ToArray();
        var minKept = all.Where((_, i) => bits[i]).DefaultIfEmpty(float.MaxValue).Min();
        var maxPruned = all.Where((_, i) => !bits[i]).DefaultIfEmpty(float.MinValue).Max();
        minKept.Should().BeGreaterThanOrEqualTo(maxPruned);

        // Determinism: same input, same mask.
        using var again = new GlobalAllocation().Allocate(scores, sparsity);
        again.Should().Be(masks);
    }

    [Fact]
    public void TooFewKeptWeightsForOnePerLayerIsRejected()
    {
        using var scores = TestModels.Scores(("a", [1f, 2f], [2]), ("b", [3f, 4f], [2]));
        var act = () => new GlobalAllocation().Allocate(scores, 0.75); // keeps 1 < 2 layers
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sparsity").WithMessage("*allowEmptyLayers*");
    }

    [Fact]
    public void InvalidSparsityIsRejected()
    {
        using var scores = TestModels.Scores(("a", [1f, 2f], [2]));
        var act = () => new GlobalAllocation().Allocate(scores, 1.0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sparsity");
    }

    [Fact]
    public void KeptCountsReportPerLayerCounts()
    {
        using var scores = TestModels.Scores(("a", [3f, 1f, 2f, 2f], [4]), ("b", [2f, 5f], [2]));
        new GlobalAllocation().KeptCounts(scores, 0.5).Should().Equal(new Dictionary<string, long> { ["a"] = 2, ["b"] = 1 });
    }

    [Theory]
    [InlineData(0.9, KeptCountRounding.PyTorch, 6)]           // 62 − round(55.8)
    [InlineData(0.9, KeptCountRounding.LotteryJackpots, 6)]   // int(62 · 0.09999999999999998) = int(6.2)
    [InlineData(0.9, KeptCountRounding.FloorPruned, 7)]       // 62 − ⌊55.8⌋
    [InlineData(0.1, KeptCountRounding.PyTorch, 56)]          // 62 − round(6.2)
    [InlineData(0.1, KeptCountRounding.LotteryJackpots, 55)]  // int(62 · 0.9) = int(55.800000000000004)
    [InlineData(0.1, KeptCountRounding.FloorPruned, 56)]
    [InlineData(0.25, KeptCountRounding.PyTorch, 46)]         // 62 − round(15.5) = 62 − 16 (half to even)
    [InlineData(0.25, KeptCountRounding.LotteryJackpots, 46)] // int(46.5)
    [InlineData(0.25, KeptCountRounding.FloorPruned, 47)]
    public void RoundingFixesTheTotalAndTheThresholdKeepsTheTopScores(double sparsity, KeptCountRounding rounding, long kept)
    {
        // 62 distinct scores over two layers (40 + 22), interleaved so that the top-k spans both.
        var values = Enumerable.Range(0, 62).Select(i => (float)((i * 37) % 62)).ToArray();
        using var scores = TestModels.Scores(("a", values[..40], [40]), ("b", values[40..], [22]));
        var allocation = new GlobalAllocation(allowEmptyLayers: true, rounding: rounding); // a plain threshold, no per-layer guard
        allocation.Rounding.Should().Be(rounding);
        using var masks = allocation.Allocate(scores, sparsity);
        masks.KeptCount.Should().Be(kept);
        var bits = TestModels.Bits(masks["a"]).Concat(TestModels.Bits(masks["b"])).ToArray();
        values.Where((_, i) => bits[i]).Should().BeEquivalentTo(Enumerable.Range((int)(62 - kept), (int)kept).Select(v => (float)v));
    }

    [Fact]
    public void DefaultRoundingIsPyTorchs() => new GlobalAllocation().Rounding.Should().Be(KeptCountRounding.PyTorch);
}
