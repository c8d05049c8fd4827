namespace Sparsity.Tests.Allocation;

public sealed class SparsityBudgetTests
{
    // Expected counts computed with Python 3 (the rules' definitions):
    //   PyTorch           n − round(p * n)            (torch.nn.utils.prune._compute_nparams_toprune)
    //   Lottery Jackpots  int(n * (1 - p))            (lottery-jackpots cifar.py generate_pr_cfg)
    //   floor-pruned      n − floor(Decimal(p) * n)   (the library's former rule)
    [Theory]
    [InlineData(62, 0.9, 6, 6, 7)]        // 55.8: PyTorch rounds up, the former rule kept one more
    [InlineData(64, 0.9, 6, 6, 7)]        // 57.6
    [InlineData(10, 0.25, 8, 7, 8)]       // 2.5: half to even prunes 2; LJ keeps int(7.5) = 7
    [InlineData(10, 0.35, 6, 6, 7)]       // 3.5: half to even prunes 4
    [InlineData(100, 0.125, 88, 87, 88)]  // 12.5: half to even prunes 12
    [InlineData(6, 0.75, 2, 1, 2)]        // 4.5: half to even prunes 4
    [InlineData(14, 0.75, 4, 3, 4)]       // 10.5: half to even prunes 10
    [InlineData(100, 0.29, 71, 71, 71)]   // 0.29 * 100 = 28.999999999999996: rounds to 29; decimal floor 29
    [InlineData(10, 0.9, 1, 0, 1)]        // LJ float artifact: 10 * (1 - 0.9) = 0.9999999999999998, int → 0
    [InlineData(1500, 0.009, 1487, 1486, 1487)] // 0.009 * 1500 = 13.499999999999998 in float64: PyTorch prunes 13
    [InlineData(3, 0.99, 0, 0, 1)]        // 2.97 rounds to 3: PyTorch prunes the whole layer
    [InlineData(10, 0.0, 10, 10, 10)]
    [InlineData(0, 0.5, 0, 0, 0)]
    public void EachRuleGivesItsOwnCount(long total, double sparsity, long pytorch, long lotteryJackpots, long floorPruned)
    {
        SparsityBudget.KeptCount(total, sparsity).Should().Be(pytorch, "PyTorch's rule is the default");
        SparsityBudget.KeptCount(total, sparsity, KeptCountRounding.PyTorch).Should().Be(pytorch);
        SparsityBudget.KeptCount(total, sparsity, KeptCountRounding.LotteryJackpots).Should().Be(lotteryJackpots);
        SparsityBudget.KeptCount(total, sparsity, KeptCountRounding.FloorPruned).Should().Be(floorPruned);
    }

    [Theory]
    [InlineData(2, 2)]   // 0.5 → 0 pruned
    [InlineData(6, 4)]   // 1.5 → 2
    [InlineData(10, 8)]  // 2.5 → 2
    [InlineData(14, 10)] // 3.5 → 4
    [InlineData(18, 14)] // 4.5 → 4
    [InlineData(22, 16)] // 5.5 → 6
    public void PyTorchRuleRoundsExactHalvesToEven(long total, long kept) =>
        SparsityBudget.KeptCount(total, 0.25).Should().Be(kept); // 0.25·n is exact in float64

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(1.5)]
    public void SparsityOutsideUnitIntervalIsRejected(double sparsity)
    {
        var act = () => SparsityBudget.KeptCount(10, sparsity);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sparsity").WithMessage("*[0, 1)*");
    }

    [Fact]
    public void UnknownRoundingIsRejected()
    {
        var act = () => SparsityBudget.KeptCount(10, 0.5, (KeptCountRounding)7);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rounding").WithMessage("*PyTorch*");
        var global = () => new GlobalAllocation(rounding: (KeptCountRounding)7);
        global.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rounding");
        var layerWise = () => new LayerWiseAllocation((KeptCountRounding)(-1));
        layerWise.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rounding");
    }
}
