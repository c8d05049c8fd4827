using System.Numerics;
using Sparsity.Analysis;
using static Sparsity.Tests.Analysis.AnalysisFixtures;

namespace Sparsity.Tests.Analysis;

public sealed class BinomialPoissonTests
{
    [Fact]
    public void BinomialMatchesExactRationalSummation()
    {
        // p = a/b rational: P(Y = x) = C(m, x) a^x (b − a)^(m − x) / b^m exactly.
        var rng = new Random(17);
        for (int i = 0; i < 200; i++)
        {
            int m = rng.Next(1, 300);
            int b = rng.Next(2, 50);
            int a = rng.Next(1, b);
            int x = rng.Next(0, m + 1);
            double p = (double)a / b;
            BigInteger Term(int y) => ExactRational.Choose(m, y) * BigInteger.Pow(a, y) * BigInteger.Pow(b - a, m - y);
            double denominator = BigInteger.Log(BigInteger.Pow(b, m));
            BigInteger upper = BigInteger.Zero, lower = BigInteger.Zero;
            for (int y = x; y <= m; y++) { upper += Term(y); }
            for (int y = 0; y <= x; y++) { lower += Term(y); }
            string because = $"m={m}, p={a}/{b}, x={x}";
            Close(Binomial.LogPmf(m, p, x), BigInteger.Log(Term(x)) - denominator, 1e-11, 1e-12, "pmf " + because);
            Close(Binomial.LogSurvival(m, p, x), BigInteger.Log(upper) - denominator, 1e-11, 1e-12, "sf " + because);
            Close(Binomial.LogCdf(m, p, x), BigInteger.Log(lower) - denominator, 1e-11, 1e-12, "cdf " + because);
        }
    }

    [Fact]
    public void BinomialDegenerateAndInvalidCases()
    {
        Binomial.LogPmf(10, 0, 0).Should().Be(0);
        Binomial.LogSurvival(10, 0, 1).Should().Be(double.NegativeInfinity);
        Binomial.LogSurvival(10, 1, 10).Should().Be(0);
        Binomial.LogCdf(10, 1, 9).Should().Be(double.NegativeInfinity);
        FluentActions.Invoking(() => Binomial.LogSurvival(10, 1.5, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("p");
        FluentActions.Invoking(() => Binomial.LogSurvival(10, 0.5, 11)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("atLeast");
    }

    [Fact]
    public void KeyedSignatureBitsExampleFromTheNotes()
    {
        // docs/statistics.md#false-positives-of-a-signature: with whitened bits X ~ Bin(m, ½); m = 30, τ = 0 gives FPR 2^-30 ≤ 1e-9, m = 29 does not.
        Binomial.LogSurvival(30, 0.5, 30).Should().BeApproximately(-30 * Math.Log(2), 1e-12);
        (Binomial.LogSurvival(29, 0.5, 29) > Math.Log(1e-9)).Should().BeTrue();
        // 91 of 100 triggers at p0 = 0.2: log10 P ≈ −52.
        (Binomial.LogSurvival(100, 0.2, 91) / SpecialFunctions.Ln10).Should().BeApproximately(-52, 1);
    }

    [Fact]
    public void PoissonMatchesDirectSummation()
    {
        foreach (var (mean, x) in new[] { (0.01, 5L), (1.0, 10L), (3.5, 0L), (3.5, 2L), (50.0, 80L), (50.0, 30L), (1e6, 1_005_000L) })
        {
            // Direct log-space sum of ln pmf = −λ + x ln λ − ln x! (lnΓ route, independent of the saddle-point form).
            double LnPmf(long y) => -mean + (y * Math.Log(mean)) - SpecialFunctions.LogGamma(y + 1.0);
            double upper = double.NegativeInfinity;
            for (long y = x; y < x + 20_000; y++) { upper = SpecialFunctions.LogAddExp(upper, LnPmf(y)); }
            double lower = double.NegativeInfinity;
            for (long y = Math.Max(0, x - 20_000); y <= x; y++) { lower = SpecialFunctions.LogAddExp(lower, LnPmf(y)); }
            string because = $"λ={mean}, x={x}";
            double slack = mean > 1000 ? 1e-9 : 1e-12; // lnΓ(1e6) itself carries ~1e-10
            Close(Poisson.LogPmf(mean, x), LnPmf(x), 1e-11, slack, "pmf " + because);
            Close(Poisson.LogSurvival(mean, x), upper, 1e-11, slack, "sf " + because);
            Close(Poisson.LogCdf(mean, x), lower, 1e-11, slack, "cdf " + because);
        }

        FluentActions.Invoking(() => Poisson.LogSurvival(0, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("mean");
        FluentActions.Invoking(() => Poisson.LogCdf(1, -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("atMost");
    }
}
