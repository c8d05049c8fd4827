using static TorchSharp.torch;

namespace Sparsity.Tests;

public sealed class MaskConstraintTests
{
    private static MaskSet Masks() => new([
        KeyValuePair.Create("a", tensor(new[] { true, true, false, false, true, false, false, false, true, false }, ScalarType.Bool)),
        KeyValuePair.Create("b", tensor(new[] { true, false, true, false }, ScalarType.Bool).reshape(2, 2))]);

    private static MaskConstraint On(string name, long[] on, long[] off) =>
        new([KeyValuePair.Create(name, (IReadOnlyCollection<long>)on)], [KeyValuePair.Create(name, (IReadOnlyCollection<long>)off)]);

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static bool[] Flat(Tensor t) => t.flatten().data<bool>().ToArray();

    [Fact]
    public void ApplyForcesPositionsAndKeepsEveryLayerCount()
    {
        using var masks = Masks();
        var c = On("a", [2, 3], [0]); // a keeps 4: +2 on, −1 off → one extra kept must go
        using var result = c.Apply(masks, seed: 3);
        result.KeptIn("a").Should().Be(masks.KeptIn("a"));
        result.KeptIn("b").Should().Be(masks.KeptIn("b"));
        Same(result["b"], masks["b"]).Should().BeTrue();
        c.IsSatisfiedBy(result).Should().BeTrue();
        c.Violations(masks).Should().Be(3);
        var flips = masks.Flips(result);
        flips.TurnedOn.Should().Be(2);
        flips.TurnedOff.Should().Be(2); // the forced one plus exactly one rebalance
    }

    [Fact]
    public void PriorityChoosesTheRebalancePositions()
    {
        using var masks = Masks();
        var c = On("a", [], [0, 1]); // two kept removed → two pruned positions switched on
        using var priority = new ScoreSet([
            KeyValuePair.Create("a", tensor(new float[] { 0, 0, 1, 9, 0, 2, 8, 3, 0, 4 })),
            KeyValuePair.Create("b", zeros(2, 2))]);
        using var result = c.Apply(masks, priority: priority);
        Flat(result["a"]).Should().Equal(false, false, false, true, true, false, true, false, true, false);
    }

    [Fact]
    public void RandomRebalanceIsDeterministicPerSeed()
    {
        using var masks = Masks();
        var c = On("a", [], [0, 1]);
        using var x = c.Apply(masks, seed: 7);
        using var y = c.Apply(masks, seed: 7);
        x.Equals(y).Should().BeTrue();
        x.KeptIn("a").Should().Be(4);
    }

    [Fact]
    public void InvalidConstraintsAreRejected()
    {
        var clash = () => On("a", [1], [1]);
        clash.Should().Throw<ArgumentException>().WithMessage("*forced both on and off*");
        var negative = () => On("a", [-1], []);
        negative.Should().Throw<ArgumentException>().WithMessage("*negative*");

        using var masks = Masks();
        var outside = () => On("a", [10], []).Validate(masks);
        outside.Should().Throw<ArgumentException>().WithMessage("*'a' has 10 elements*");
        var unknown = () => On("z", [0], []).Validate(masks);
        unknown.Should().Throw<ArgumentException>().WithMessage("*'z' is not in the mask set*");
        var tooMany = () => On("b", [0, 1, 2], []).Validate(masks);
        tooMany.Should().Throw<ArgumentException>().WithMessage("*keeps 2 weights but 3 are forced on*");
        var tooFew = () => On("b", [], [0, 1, 3]).Apply(masks);
        tooFew.Should().Throw<ArgumentException>().WithMessage("*keeps 2 of 4 weights but 3 are forced off*");
    }

    [Fact]
    public void CountsAndLookups()
    {
        var c = new MaskConstraint(
            [KeyValuePair.Create("a", (IReadOnlyCollection<long>)new long[] { 3, 1, 3 })],
            [KeyValuePair.Create("b", (IReadOnlyCollection<long>)new long[] { 0 })]);
        c.Names.Should().BeEquivalentTo(["a", "b"]);
        c.ForcedOn("a").Should().Equal(1, 3);
        c.ForcedOff("a").Should().BeEmpty();
        c.ForcedOnCount.Should().Be(2);
        c.ForcedOffCount.Should().Be(1);
    }
}
