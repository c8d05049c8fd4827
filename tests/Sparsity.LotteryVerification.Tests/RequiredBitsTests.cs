namespace Sparsity.LotteryVerification.Tests;

/// <summary>Against the tables of docs/statistics.md#required-bits, α = 1e-9, one test.</summary>
public sealed class RequiredBitsTests
{
    [Theory]
    [InlineData(0.00, 30, 30)]
    [InlineData(0.05, 36, 42)]
    [InlineData(0.10, 48, 57)]
    [InlineData(0.20, 93, 108)]
    [InlineData(0.25, 138, 159)]
    [InlineData(0.30, 216, 252)]
    public void WhitenedBitsMatchTheTable(double tau, int exact, int chernoff)
    {
        RequiredBits.Exact(1e-9, tau).Should().Be(exact);
        RequiredBits.ChernoffBound(1e-9, tau).Should().Be(chernoff);
    }

    [Theory]
    [InlineData(0.01, new[] { 5, 5, 6, 6 })]
    [InlineData(0.02, new[] { 6, 6, 7, 9 })]
    [InlineData(0.05, new[] { 7, 7, 9, 12 })]
    // d = 0.1: P(Bin(9, 0.1) ≥ 9) = 1e-9 exactly, a tie with α; "≤ α" accepts it, so m = 9 for τ = 0 and τ = 0.1
    // (⌈0.9 · 9⌉ = 9). The table's "9–10" and 12 are that tie resolved by rounding; the other cells agree.
    [InlineData(0.10, new[] { 9, 9, 13, 18 })]
    [InlineData(0.20, new[] { 13, 16, 22, 32 })]
    public void ForcedOnBitsMatchTheTable(double density, int[] expected)
    {
        new[] { 0.0, 0.1, 0.2, 0.3 }.Select(tau => RequiredBits.Exact(1e-9, tau, density)).Should().Equal(expected);
    }

    [Fact]
    public void MoreTestsNeedMoreBits()
    {
        // W = 5184 windows adds ln 5184 ≈ 8.6 nats: about 8.6 / ln 2 ≈ 12.4 more bits at τ = 0.
        int single = RequiredBits.Exact(1e-9, 0);
        int many = RequiredBits.Exact(1e-9, 0, 0.5, 5184);
        many.Should().Be(43);
        many.Should().BeGreaterThan(single);
    }

    [Fact]
    public void ThresholdIsTheCeilingWithoutRoundingNoise()
    {
        RequiredBits.Threshold(20, 0.05).Should().Be(19);
        RequiredBits.Threshold(93, 0.2).Should().Be(75);
        RequiredBits.Threshold(10, 0).Should().Be(10);
    }

    [Fact]
    public void BadArgumentsNameTheParameter()
    {
        var a = () => RequiredBits.Exact(0, 0.1);
        a.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("falsePositiveRate");
        var b = () => RequiredBits.Exact(1e-9, 0.6);
        b.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("toleratedBitErrorRate");
        var c = () => RequiredBits.Exact(1e-9, 0.1, 1.0);
        c.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("nullMatchProbability");
    }
}
