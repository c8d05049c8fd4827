using System.Text.Json;

namespace Sparsity.Tests.Allocation;

/// <summary>
/// Masks of the default (PyTorch) rounding against <c>torch.nn.utils.prune</c> itself
/// (tests/fixtures/allocation/make_fixture.py, PyTorch 1.13): <c>l1_unstructured</c> per layer and
/// <c>global_unstructured</c> over three layers, from the same distinct scores.
/// </summary>
public sealed class PyTorchPruneFixtureTests
{
    private static readonly JsonElement Root = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "allocation", "pytorch_prune_masks.json"))).RootElement;

    private static ScoreSet Scores() => TestModels.Scores(Root.GetProperty("scores").EnumerateObject()
        .Select(e => (e.Name,
            e.Value.GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray(),
            e.Value.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray()))
        .ToArray());

    public static TheoryData<double> Amounts()
    {
        var data = new TheoryData<double>();
        foreach (var c in Root.GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("amount").GetDouble());
        }

        return data;
    }

    private static JsonElement Case(double amount) =>
        Root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("amount").GetDouble() == amount);

    private static void ShouldEqual(MaskSet masks, JsonElement expected, string what)
    {
        foreach (var layer in expected.EnumerateObject())
        {
            var bits = layer.Value.EnumerateArray().Select(v => v.GetInt32() != 0).ToArray();
            TestModels.Bits(masks[layer.Name]).Should().Equal(bits, $"{what} mask of {layer.Name}");
        }
    }

    [Theory]
    [MemberData(nameof(Amounts))]
    public void LayerWiseEqualsL1Unstructured(double amount)
    {
        using var scores = Scores();
        using var masks = new LayerWiseAllocation().Allocate(scores, amount);
        ShouldEqual(masks, Case(amount).GetProperty("layer_wise"), "l1_unstructured");
    }

    [Theory]
    [MemberData(nameof(Amounts))]
    public void GlobalEqualsGlobalUnstructured(double amount)
    {
        using var scores = Scores();
        using var masks = new GlobalAllocation(allowEmptyLayers: true).Allocate(scores, amount); // PyTorch may empty a layer
        ShouldEqual(masks, Case(amount).GetProperty("global"), "global_unstructured");
    }

    [Fact]
    public void TheFormerRuleDiffersFromPyTorchOnTheseCases()
    {
        // 62 weights at 0.9: torch keeps 6, the floor-pruned rule 7 (the example).
        using var scores = Scores();
        using var former = new LayerWiseAllocation(KeptCountRounding.FloorPruned).Allocate(scores, 0.9);
        var expected = Case(0.9).GetProperty("layer_wise").GetProperty("a").EnumerateArray().Count(v => v.GetInt32() != 0);
        expected.Should().Be(6);
        former.KeptIn("a").Should().Be(7);
    }
}
