using static TorchSharp.torch;

namespace Sparsity.Tests;

public sealed class MaskSetTests
{
    private static MaskSet Masks(params (string Name, bool[] Bits, long[] Shape)[] layers) =>
        new(layers.Select(l => KeyValuePair.Create(l.Name, tensor(l.Bits).reshape(l.Shape))).ToList());

    [Fact]
    public void CountsAndDensities()
    {
        using var masks = Masks(("a", [true, false, true, false], [2, 2]), ("b", [true, true], [2]));
        masks.KeptCount.Should().Be(4);
        masks.TotalCount.Should().Be(6);
        masks.Density.Should().BeApproximately(4.0 / 6.0, 1e-15);
        masks.Sparsity.Should().BeApproximately(2.0 / 6.0, 1e-15);
        masks.Layers.Should().Equal(new LayerDensity("a", 2, 4), new LayerDensity("b", 2, 2));
        masks.Layers[0].Density.Should().Be(0.5);
    }

    [Fact]
    public void FlipsCountBothDirectionsPerLayer()
    {
        using var first = Masks(("a", [true, false, true, false], [4]), ("b", [true, false], [2]));
        using var second = Masks(("a", [false, true, true, true], [4]), ("b", [true, false], [2]));
        var flips = first.Flips(second);
        flips.Layers.Should().Equal(new LayerFlips("a", TurnedOn: 2, TurnedOff: 1), new LayerFlips("b", 0, 0));
        flips.Total.Should().Be(3);
        second.Flips(first).TurnedOff.Should().Be(2);
    }

    [Fact]
    public void FlipsBetweenDifferentLayoutsAreRejected()
    {
        using var first = Masks(("a", [true, false], [2]));
        using var second = Masks(("a", [true, false], [1, 2]));
        var act = () => first.Flips(second);
        act.Should().Throw<ArgumentException>().WithParameterName("other").WithMessage("*'a' has shape [2]*");
    }

    [Fact]
    public void EqualityIsStructural()
    {
        using var a = Masks(("x", [true, false], [2]), ("y", [false], [1]));
        using var b = Masks(("y", [false], [1]), ("x", [true, false], [2]));
        using var c = Masks(("x", [false, true], [2]), ("y", [false], [1]));
        a.Should().Be(b);
        a.GetHashCode().Should().Be(b.GetHashCode());
        a.Should().NotBe(c);
    }

    [Fact]
    public void NonBoolMasksAreRejected()
    {
        var act = () => new MaskSet([KeyValuePair.Create("a", ones(2))]);
        act.Should().Throw<ArgumentException>().WithParameterName("masks").WithMessage("*must be bool*");
    }

    [Fact]
    public void ApplyToZeroesPrunedWeightsOnly()
    {
        using var model = TestModels.ConvNet();
        var parameters = new ParameterSelector().Select(model);
        var before = parameters.Select(p => p.Weight.detach().clone()).ToList();
        using var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
        using var masks = new GlobalAllocation().Allocate(scores, 0.75);
        masks.ApplyTo(model);
        for (int i = 0; i < parameters.Count; i++)
        {
            var w = parameters[i].Weight.detach().flatten().data<float>().ToArray();
            var bits = TestModels.Bits(masks[parameters[i].Name]);
            var original = before[i].flatten().data<float>().ToArray();
            for (int j = 0; j < w.Length; j++)
            {
                w[j].Should().Be(bits[j] ? original[j] : 0f);
            }
        }
    }

    [Fact]
    public void ApplyToWithAMisShapedMaskChangesNothing()
    {
        using var model = TestModels.ConvNet();
        var snapshot = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var masks = Masks(("fc2.weight", new bool[12], [3, 4]), ("fc1.weight", new bool[32], [8, 4]));
        var act = () => masks.ApplyTo(model);
        act.Should().Throw<ArgumentException>().WithMessage("*'fc1.weight' has shape [8, 4]*[4, 8]*");
        foreach (var (key, value) in model.state_dict())
        {
            TestModels.Same(value, snapshot[key]).Should().BeTrue(key);
        }
    }

    [Fact]
    public void ApplyToWithAnUnknownNameIsRejected()
    {
        using var model = TestModels.ConvNet();
        using var masks = Masks(("fc9.weight", [true], [1]));
        var act = () => masks.ApplyTo(model);
        act.Should().Throw<ArgumentException>().WithParameterName("model").WithMessage("*unknown parameter 'fc9.weight'*");
    }

    [Fact]
    public void DenseKeepsEverything()
    {
        using var model = TestModels.ConvNet();
        using var dense = MaskSet.Dense(new ParameterSelector().Select(model));
        dense.KeptCount.Should().Be(62);
        dense.Sparsity.Should().Be(0);
    }
}
