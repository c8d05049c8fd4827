using Sparsity.Analysis;
using static TorchSharp.torch;

namespace Sparsity.Tests.Analysis;

/// <summary>Hand-made masks with counts known by construction.</summary>
public static class HandMasks
{
    // l1 (2×4): A keeps {0, 1, 4}, B keeps {0, 2, 4, 7} → k1 = 3, k2 = 4, X = 2, Hamming 3.
    // l2 (3):   A keeps all, B keeps {0, 1}            → k1 = 3, k2 = 2, X = 2.
    public static MaskSet A() => new([
        KeyValuePair.Create("l1.weight", tensor(new[] { true, true, false, false, true, false, false, false }).reshape(2, 4)),
        KeyValuePair.Create("l2.weight", tensor(new[] { true, true, true })),
    ]);

    public static MaskSet B() => new([
        KeyValuePair.Create("l1.weight", tensor(new[] { true, false, true, false, true, false, false, true }).reshape(2, 4)),
        KeyValuePair.Create("l2.weight", tensor(new[] { true, true, false })),
    ]);
}

public sealed class MaskOverlapTests
{
    [Fact]
    public void CountsAndEffectSizesOfHandMadeMasks()
    {
        using var a = HandMasks.A();
        using var b = HandMasks.B();
        var overlap = MaskOverlap.Compute(a, b);

        overlap.Layers.Select(l => l.Name).Should().Equal("l1.weight", "l2.weight");
        var l1 = overlap.Layers[0];
        l1.Should().Be(new LayerOverlap("l1.weight", 8, 3, 4, 2));
        l1.OverlapRatio.Should().Be(0.5);
        l1.ChanceRatio.Should().Be(3.0 / 8);
        l1.Jaccard.Should().Be(2.0 / 5);
        l1.Hamming.Should().Be(3);
        l1.TurnedOn.Should().Be(2);
        l1.TurnedOff.Should().Be(1);
        l1.Chance.Mean.Should().Be(1.5);
        l1.Kappa.Should().BeApproximately(1.0 / 3, 1e-15);
        l1.ZScore.Should().BeApproximately(0.5 / Math.Sqrt(3.0 * 4 * 5 * 4 / (64.0 * 7)), 1e-14);

        var l2 = overlap.Layers[1];
        l2.Should().Be(new LayerOverlap("l2.weight", 3, 3, 2, 2));
        l2.Kappa.Should().Be(double.NaN, "A keeps everything, so min(k1, k2) equals the chance overlap");
        l2.ZScore.Should().Be(0);

        overlap.Total.Should().Be(new LayerOverlap(MaskOverlap.TotalName, 11, 6, 6, 4));
    }

    [Fact]
    public void FlipsAgreeWithMaskSetFlips()
    {
        using var a = HandMasks.A();
        using var b = HandMasks.B();
        var flips = a.Flips(b);
        var overlap = MaskOverlap.Compute(a, b);
        overlap.Layers.Select(l => l.TurnedOn).Should().Equal(flips.Layers.Select(f => f.TurnedOn));
        overlap.Layers.Select(l => l.TurnedOff).Should().Equal(flips.Layers.Select(f => f.TurnedOff));
        overlap.Layers.Select(l => l.Hamming).Should().Equal(flips.Layers.Select(f => f.Total));
    }

    [Fact]
    public void IdenticalAndDisjointMasksHaveExtremeEffectSizes()
    {
        using var a = new MaskSet([KeyValuePair.Create("w", tensor(new[] { true, true, false, false, false, false }))]);
        using var same = a.Clone();
        using var disjoint = new MaskSet([KeyValuePair.Create("w", tensor(new[] { false, false, true, true, false, false }))]);
        var s = MaskOverlap.Compute(a, same).Layers[0];
        s.Jaccard.Should().Be(1);
        s.Kappa.Should().Be(1);
        s.Hamming.Should().Be(0);
        var d = MaskOverlap.Compute(a, disjoint).Layers[0];
        d.Jaccard.Should().Be(0);
        d.Kappa.Should().BeNegative();
        d.Hamming.Should().Be(4);
    }

    [Fact]
    public void DifferentLayoutsAreRejected()
    {
        using var a = HandMasks.A();
        using var other = new MaskSet([KeyValuePair.Create("l1.weight", tensor(new[] { true, false }))]);
        FluentActions.Invoking(() => MaskOverlap.Compute(a, other)).Should().Throw<ArgumentException>().WithParameterName("b");
    }
}
