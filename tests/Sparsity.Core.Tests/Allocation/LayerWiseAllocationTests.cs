namespace Sparsity.Tests.Allocation;

public sealed class LayerWiseAllocationTests
{
    [Fact]
    public void EveryLayerKeepsItsOwnTopKWithTiesByIndex()
    {
        using var scores = TestModels.Scores(("a", [1f, 1f, 1f, 1f], [4]), ("b", [0f, 9f, 3f, 9f, 1f], [5]));
        using var masks = new LayerWiseAllocation().Allocate(scores, 0.5);
        TestModels.Bits(masks["a"]).Should().Equal(true, true, false, false);    // 4 − round(2) = 2 kept
        TestModels.Bits(masks["b"]).Should().Equal(false, true, true, true, false); // 5 − round(2.5) = 5 − 2 = 3 kept
    }

    [Fact]
    public void FloorPrunedRuleNeverEmptiesALayer()
    {
        using var scores = TestModels.Scores(("tiny", [0.5f], [1]), ("big", Enumerable.Range(0, 50).Select(i => (float)i).ToArray(), [50]));
        using var masks = new LayerWiseAllocation(KeptCountRounding.FloorPruned).Allocate(scores, 0.99);
        masks.KeptIn("tiny").Should().Be(1);
        masks.KeptIn("big").Should().Be(1);
        TestModels.Bits(masks["big"]).Last().Should().BeTrue();
    }

    [Fact]
    public void PyTorchRuleEmptiesATinyLayerAsPyTorchDoes()
    {
        // torch.nn.utils.prune.l1_unstructured(amount=0.99) prunes round(0.99) = 1 of 1 and round(49.5) = 50 of 50.
        using var scores = TestModels.Scores(("tiny", [0.5f], [1]), ("big", Enumerable.Range(0, 50).Select(i => (float)i).ToArray(), [50]));
        using var masks = new LayerWiseAllocation().Allocate(scores, 0.99);
        masks.KeptIn("tiny").Should().Be(0);
        masks.KeptIn("big").Should().Be(0);
    }

    [Theory]
    [InlineData(KeptCountRounding.PyTorch, 56, 51)]          // 62 − round(6.2) = 56, 57 − round(5.7) = 51
    [InlineData(KeptCountRounding.LotteryJackpots, 55, 51)]  // int(62·0.9) = int(55.8), int(57·0.9) = int(51.3)
    [InlineData(KeptCountRounding.FloorPruned, 56, 52)]      // 62 − ⌊6.2⌋, 57 − ⌊5.7⌋
    public void RoundingAppliesToEveryLayer(KeptCountRounding rounding, long keptA, long keptB)
    {
        using var scores = TestModels.Scores(
            ("a", Enumerable.Range(0, 62).Select(i => (float)i).ToArray(), [62]),
            ("b", Enumerable.Range(0, 57).Select(i => (float)(-i)).ToArray(), [57]));
        var allocation = new LayerWiseAllocation(rounding);
        allocation.Rounding.Should().Be(rounding);
        using var masks = allocation.Allocate(scores, 0.1);
        masks.KeptIn("a").Should().Be(keptA);
        masks.KeptIn("b").Should().Be(keptB);
        TestModels.Bits(masks["a"]).Skip((int)(62 - keptA)).Should().OnlyContain(b => b); // the highest scores
        TestModels.Bits(masks["b"]).Take((int)keptB).Should().OnlyContain(b => b);
    }
}
