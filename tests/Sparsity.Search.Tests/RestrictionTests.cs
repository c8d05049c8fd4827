namespace Sparsity.Search.Tests;

public sealed class RestrictionTests
{
    private static LayerProposal Proposal(long pairs, bool tie = false, int epoch = 0, int epochs = 4) =>
        new("w", 100, 10, pairs, tie, epoch, epochs);

    [Fact]
    public void OfficialScheduleSwapsEveryPairInEveryEpoch()
    {
        var policy = new ShortRestriction();
        for (int e = 0; e < 4; e++)
        {
            RestrictionSchedule.Official.Rate(e, 4).Should().Be(1.0);
            policy.AcceptedPairs(Proposal(7, epoch: e)).Should().Be(7);
        }
    }

    [Fact]
    public void ShortRestrictionRefusesWhenATieStraddlesTheThreshold()
    {
        new ShortRestriction().AcceptedPairs(Proposal(3, tie: true)).Should().Be(0);
        NoRestriction.Instance.AcceptedPairs(Proposal(3, tie: true)).Should().Be(3);
    }

    [Fact]
    public void DecayingAndConstantSchedulesCapThePairs()
    {
        var decaying = new ShortRestriction(RestrictionSchedule.Decaying);
        // epoch 2 of 4: (1 − 0.5)^4 = 0.0625; ceil(10 · 0.0625) = 1.
        decaying.AcceptedPairs(Proposal(10, epoch: 2)).Should().Be(1);
        decaying.AcceptedPairs(Proposal(10, epoch: 0)).Should().Be(10);
        new ShortRestriction(RestrictionSchedule.Constant(0.25)).AcceptedPairs(Proposal(10)).Should().Be(3);
        decaying.Description.Should().Be("short(decaying)");
    }

    [Fact]
    public void ConstantFractionOutsideRangeIsRejected()
    {
        var act = () => RestrictionSchedule.Constant(0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fraction");
        var act2 = () => RestrictionSchedule.Constant(1.5);
        act2.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fraction");
    }
}
