namespace Sparsity.Tests.Allocation;

public sealed class LayerWiseAllocationTests
{
    [Fact]
    public void EveryLayerKeepsItsOwnTopKWithTiesByIndex()
    {
        using var scores = TestModels.Scores(("a", [1f, 1f, 1f, 1f], [4]), ("b", [0f, 9f, 3f, 9f, 1f], [5]));
        using var masks = new LayerWiseAllocation().Allocate(scores, 0.5);
        TestModels.Bits(masks["a"]).Should().Equal(true, true, false, false);    // 4 − ⌊2⌋ = 2 kept
        TestModels.Bits(masks["b"]).Should().Equal(false, true, true, true, false); // 5 − ⌊2.5⌋ = 3 kept
    }

    [Fact]
    public void HighSparsityNeverEmptiesALayer()
    {
        using var scores = TestModels.Scores(("tiny", [0.5f], [1]), ("big", Enumerable.Range(0, 50).Select(i => (float)i).ToArray(), [50]));
        using var masks = new LayerWiseAllocation().Allocate(scores, 0.99);
        masks.KeptIn("tiny").Should().Be(1);
        masks.KeptIn("big").Should().Be(1);
        TestModels.Bits(masks["big"]).Last().Should().BeTrue();
    }
}
