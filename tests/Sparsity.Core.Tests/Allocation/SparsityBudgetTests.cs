namespace Sparsity.Tests.Allocation;

public sealed class SparsityBudgetTests
{
    [Theory]
    [InlineData(100, 0.29, 71)] // 0.29 * 100 is 28.999… in binary floating point; decimal gives 29 pruned
    [InlineData(64, 0.9, 7)]    // ⌊57.6⌋ = 57 pruned
    [InlineData(10, 0.0, 10)]
    [InlineData(3, 0.99, 1)]
    [InlineData(0, 0.5, 0)]
    public void KeptCountPrunesTheFloorOfTheFraction(long total, double sparsity, long expected) =>
        SparsityBudget.KeptCount(total, sparsity).Should().Be(expected);

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
}
