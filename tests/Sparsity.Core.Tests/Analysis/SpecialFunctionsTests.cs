using System.Globalization;
using System.Numerics;
using Sparsity.Analysis;
using static Sparsity.Tests.Analysis.AnalysisFixtures;

namespace Sparsity.Tests.Analysis;

public sealed class SpecialFunctionsTests
{
    private static double Parse(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    [Fact]
    public void LogGammaMatchesMpmath()
    {
        foreach (var (x, value) in Special["LogGamma"])
        {
            // Absolute 1e-14 near the zeros of lnΓ (x = 1, 2), relative 1e-14 elsewhere.
            Close(SpecialFunctions.LogGamma(Parse(x)), value, 1e-14, 1e-14, $"LogGamma({x})");
        }
    }

    [Fact]
    public void StirlingErrorMatchesMpmathOnTableAndSeries()
    {
        foreach (var (x, value) in Special["StirlingError"])
        {
            Close(SpecialFunctions.StirlingError(long.Parse(x, CultureInfo.InvariantCulture)), value, 1e-13, 1e-17, $"StirlingError({x})");
        }
    }

    [Theory]
    [InlineData("Log1p")]
    [InlineData("Expm1")]
    [InlineData("Log1mExp")]
    public void ElementaryFunctionsAreAccurateNearZero(string function)
    {
        Func<double, double> f = function switch
        {
            "Log1p" => SpecialFunctions.Log1p,
            "Expm1" => SpecialFunctions.Expm1,
            _ => SpecialFunctions.Log1mExp,
        };
        foreach (var (x, value) in Special[function])
        {
            Close(f(Parse(x)), value, 4e-16, 0, $"{function}({x})");
        }
    }

    [Fact]
    public void BclLogP1AndExpM1AreNaiveNearZeroWhichIsWhyOwnVersionsExist()
    {
        // If this starts failing, .NET has fixed them and SpecialFunctions.Log1p/Expm1 could delegate.
        (Math.Abs(double.LogP1(1e-15) - 1e-15) / 1e-15).Should().BeGreaterThan(0.1, "the BCL computes log(1 + x) literally");
        double.ExpM1(1e-20).Should().Be(0.0, "the BCL computes exp(x) − 1 literally");
        SpecialFunctions.Log1p(1e-15).Should().BeApproximately(9.999999999999995e-16, 1e-30);
        SpecialFunctions.Expm1(1e-20).Should().Be(1e-20);
    }

    [Fact]
    public void Expm1AndLog1pHandleTheEnds()
    {
        SpecialFunctions.Expm1(1000).Should().Be(double.PositiveInfinity);
        SpecialFunctions.Expm1(-1000).Should().Be(-1.0);
        SpecialFunctions.Log1p(-1).Should().Be(double.NegativeInfinity);
        SpecialFunctions.Log1p(double.MaxValue).Should().BeApproximately(Math.Log(double.MaxValue), 1e-12);
        SpecialFunctions.Log1mExp(0).Should().Be(double.NegativeInfinity);
        SpecialFunctions.LogAddExp(double.NegativeInfinity, -3).Should().Be(-3);
        SpecialFunctions.LogAddExp(-1000, -1000).Should().BeApproximately(-1000 + Math.Log(2), 1e-12);
    }

    [Fact]
    public void LogNormalSurvivalMatchesMpmathFarIntoBothTails()
    {
        foreach (var (z, value) in Special["LogNormalSurvival"])
        {
            Close(SpecialFunctions.LogNormalSurvival(Parse(z)), value, 1e-13, 1e-300, $"LogNormalSurvival({z})");
        }
    }

    [Fact]
    public void LogNormalSurvivalIsContinuousAndDecreasingAcrossBranchSwitches()
    {
        double previous = 0;
        for (double z = -6; z <= 12; z += 0.001)
        {
            double v = SpecialFunctions.LogNormalSurvival(z);
            v.Should().BeLessThanOrEqualTo(previous, $"ln Φ̄ decreases (z = {z})");
            previous = v;
        }

        foreach (var edge in new[] { -3.0, 3.0 })
        {
            double below = SpecialFunctions.LogNormalSurvival(Math.BitDecrement(edge));
            double at = SpecialFunctions.LogNormalSurvival(edge);
            Math.Abs(below - at).Should().BeLessThan(1e-13 * Math.Max(1, Math.Abs(at)), $"no jump at the switch z = {edge}");
        }
    }

    [Fact]
    public void LogBinomialCoefficientMatchesExactBigIntegerValues()
    {
        var rng = new Random(11);
        for (int i = 0; i < 300; i++)
        {
            long n = rng.Next(0, 3000);
            long k = rng.Next(0, (int)n + 1);
            double exact = BigInteger.Log(ExactRational.Choose(n, k));
            Close(SpecialFunctions.LogBinomialCoefficient(n, k), exact, 1e-13, 1e-13, $"ln C({n}, {k})");
        }
    }

    [Fact]
    public void LogBinomialCoefficientAtTenBillionMatchesMpmathToItsOwnUlp()
    {
        foreach (var (nk, value) in Special["LogBinomialCoefficient"])
        {
            var parts = nk.Split(':');
            long n = long.Parse(parts[0], CultureInfo.InvariantCulture);
            long k = long.Parse(parts[1], CultureInfo.InvariantCulture);
            Close(SpecialFunctions.LogBinomialCoefficient(n, k), value, 4e-16, 0, $"ln C({n}, {k})");
        }
    }

    [Fact]
    public void DevianceIsExactNearTheMean()
    {
        // bd0(x, μ) ≈ (x − μ)²/(2μ) for x ≈ μ ≫ 1; the naive form x ln(x/μ) + μ − x would cancel to nothing.
        double mu = 1e10;
        double x = mu + 10;
        SpecialFunctions.Deviance(x, mu).Should().BeApproximately(100 / (2 * mu) * (1 - (10 / (3 * mu))), 1e-22);
        SpecialFunctions.Deviance(0, 2.5).Should().Be(2.5);
        SpecialFunctions.Deviance(5, 5).Should().Be(0);
    }

    [Fact]
    public void BadArgumentsAreRejectedWithTheParameterName()
    {
        FluentActions.Invoking(() => SpecialFunctions.LogGamma(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("x");
        FluentActions.Invoking(() => SpecialFunctions.LogGamma(double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("x");
        FluentActions.Invoking(() => SpecialFunctions.StirlingError(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("n");
        FluentActions.Invoking(() => SpecialFunctions.LogFactorial(-1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("n");
        FluentActions.Invoking(() => SpecialFunctions.LogBinomialCoefficient(5, 6)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
        FluentActions.Invoking(() => SpecialFunctions.LogBinomialCoefficient(-5, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("n");
        FluentActions.Invoking(() => SpecialFunctions.Log1mExp(0.1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("a");
    }

    [Fact]
    public void BernoulliKlFollowsItsDefinition()
    {
        SpecialFunctions.BernoulliKl(0.5, 0.5).Should().Be(0);
        SpecialFunctions.BernoulliKl(1, 0.5).Should().BeApproximately(Math.Log(2), 1e-15);
        SpecialFunctions.BernoulliKl(0, 0.25).Should().BeApproximately(-Math.Log(0.75), 1e-15);
        SpecialFunctions.BernoulliKl(0.3, 0.1).Should().BeApproximately((0.3 * Math.Log(3)) + (0.7 * Math.Log(0.7 / 0.9)), 1e-15);
    }
}
