using Sparsity.Analysis;

namespace Sparsity.Tests.Analysis;

public sealed class MultipleTestingTests
{
    [Fact]
    public void SidakLevelsFollowTheirDefinition()
    {
        // 1 − 0.95^(1/10) and 1 − 0.99^20 by the plain formula (no cancellation at these sizes).
        MultipleTesting.SidakPerTestLevel(0.05, 10).Should().BeApproximately(1 - Math.Pow(0.95, 0.1), 1e-15);
        MultipleTesting.SidakFamilyWiseLevel(0.01, 20).Should().BeApproximately(1 - Math.Pow(0.99, 20), 1e-15);
        MultipleTesting.SidakPerTestLevel(0.05, 1).Should().BeApproximately(0.05, 1e-17);
    }

    [Fact]
    public void SidakRoundTripsAndIsBelowBonferroni()
    {
        foreach (var w in new long[] { 2, 53, 5_184, 1_000_000_000_000 })
        {
            double alpha = MultipleTesting.SidakPerTestLevel(1e-9, w);
            alpha.Should().BeLessThanOrEqualTo(1e-9 / w * (1 + 1e-9));
            MultipleTesting.SidakFamilyWiseLevel(alpha, w).Should().BeApproximately(1e-9, 1e-9 * 1e-12, $"W = {w}");
        }
    }

    [Fact]
    public void AdjustedLogPIsAccurateForHugeAndModerateP()
    {
        MultipleTesting.SidakAdjustLogP(-1000, 53).Should().BeApproximately(-1000 + Math.Log(53), 1e-12, "p W ≪ 1: ln W + ln p");
        MultipleTesting.SidakAdjustLogP(Math.Log(0.01), 10).Should().BeApproximately(Math.Log(1 - Math.Pow(0.99, 10)), 1e-14);
        MultipleTesting.SidakAdjustLogP(0, 10).Should().Be(0);
        double nearSwitch = -40 - Math.Log(53) + 1e-9;
        MultipleTesting.SidakAdjustLogP(nearSwitch, 53).Should().BeApproximately(nearSwitch + Math.Log(53), 1e-12);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        FluentActions.Invoking(() => MultipleTesting.SidakPerTestLevel(0, 3)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("familyWiseLevel");
        FluentActions.Invoking(() => MultipleTesting.SidakFamilyWiseLevel(0.1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("tests");
        FluentActions.Invoking(() => MultipleTesting.SidakAdjustLogP(0.1, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("logP");
    }
}
