using Sparsity.Analysis;
using static Sparsity.Tests.Analysis.AnalysisFixtures;

namespace Sparsity.Tests.Analysis;

public sealed class HypergeometricTests
{
    [Theory]
    [MemberData(nameof(AnalysisFixtures.HypergeometricRows), MemberType = typeof(AnalysisFixtures))]
    public void ExactLogPmfSurvivalAndCdfMatchFiftyDigitReference(int row)
    {
        var v = AnalysisFixtures.Vectors[row];
        // Relative 1e-9 in log space; absolute 1e-12 where the log is ~0 (a probability ≈ 1).
        Close(Hypergeometric.LogPmf(v.N, v.K1, v.K2, v.X), v.LnPmf, 1e-9, 1e-12, $"ln pmf, {v}");
        Close(Hypergeometric.LogSurvival(v.N, v.K1, v.K2, v.X), v.LnSf, 1e-9, 1e-12, $"ln sf, {v}");
        Close(Hypergeometric.LogCdf(v.N, v.K1, v.K2, v.X), v.LnCdf, 1e-9, 1e-12, $"ln cdf, {v}");
        Close(Hypergeometric.Log10Survival(v.N, v.K1, v.K2, v.X), v.Log10Sf, 1e-9, 1e-12, $"log10 sf, {v}");
    }

    [Theory]
    [MemberData(nameof(AnalysisFixtures.HypergeometricRows), MemberType = typeof(AnalysisFixtures))]
    public void TenBillionWeightsStayWithinOneMillionthAbsolute(int row)
    {
        var v = AnalysisFixtures.Vectors[row];
        if (v.N < 10_000_000_000)
        {
            return;
        }

        Math.Abs(Hypergeometric.LogPmf(v.N, v.K1, v.K2, v.X) - v.LnPmf).Should().BeLessThan(1e-6, v.ToString());
        Math.Abs(Hypergeometric.LogSurvival(v.N, v.K1, v.K2, v.X) - v.LnSf).Should().BeLessThan(1e-6, v.ToString());
        Math.Abs(Hypergeometric.LogCdf(v.N, v.K1, v.K2, v.X) - v.LnCdf).Should().BeLessThan(1e-6, v.ToString());
    }

    [Theory]
    [InlineData(300L, 150L, 60L, 60L, -21.291477)]
    [InlineData(267_264L, 51_766L, 51_766L, 10_431L, -6.510684)]
    [InlineData(267_264L, 51_766L, 51_766L, 12_032L, -131.094009)]
    [InlineData(25_000_000L, 2_500_000L, 2_500_000L, 1_500_000L, -1_022_153.723721)]
    [InlineData(100_000_000L, 1_000_000L, 1_000_000L, 10_496L, -6.468473)]
    [InlineData(100_000_000L, 1_000_000L, 1_000_000L, 10_991L, -22.470055)]
    [InlineData(100_000_000L, 1_000L, 1_000L, 5L, -12.091463)]
    [InlineData(100_000_000L, 10_000L, 10_000L, 10L, -6.956178)]
    [InlineData(100_000_000L, 1_000_000L, 1_000_000L, 10_100L, -0.802887)]
    [InlineData(100_000_000L, 50_000_000L, 50_000_000L, 25_010_000L, -4.498968)]
    public void DesignNoteVectorsRoundToThePrintedDigits(long n, long k1, long k2, long x, double log10P)
    {
        Hypergeometric.Log10Survival(n, k1, k2, x).Should().BeApproximately(log10P, 5.0000001e-7);
    }

    [Fact]
    public void RBugReportExampleHasTheKnownPValue()
    {
        Math.Exp(Hypergeometric.LogSurvival(300, 150, 60, 60)).Should().BeApproximately(5.111204798e-22, 1e-31);
    }

    [Fact]
    public void SmallCasesMatchExactRationalSummation()
    {
        var rng = new Random(5);
        for (int i = 0; i < 400; i++)
        {
            long n = rng.Next(1, 400);
            long k1 = rng.Next(0, (int)n + 1);
            long k2 = rng.Next(0, (int)n + 1);
            var (lo, hi) = Hypergeometric.Support(n, k1, k2);
            long x = lo + rng.NextInt64(hi - lo + 1);
            string because = $"n={n}, k1={k1}, k2={k2}, x={x}";
            Close(Hypergeometric.LogPmf(n, k1, k2, x), ExactRational.LogHypergeometric(n, k1, k2, [x]), 1e-11, 1e-12, "pmf " + because);
            Close(Hypergeometric.LogSurvival(n, k1, k2, x), ExactRational.LogHypergeometric(n, k1, k2, ExactRational.Range(x, hi)), 1e-11, 1e-12, "sf " + because);
            Close(Hypergeometric.LogCdf(n, k1, k2, x), ExactRational.LogHypergeometric(n, k1, k2, ExactRational.Range(lo, x)), 1e-11, 1e-12, "cdf " + because);
        }
    }

    [Fact]
    public void ModerateCaseMatchesExactRationalSummationFarInTheTail()
    {
        // n = 20 000, 10 % densities: x = 300 is ~7.5σ above μ = 200, x = 120 ~6σ below. The reference's own
        // error is that of BigInteger.Log on numbers near e^6400 (about 1e-12 absolute).
        const long n = 20_000, k = 2_000;
        Close(Hypergeometric.LogSurvival(n, k, k, 300), ExactRational.LogHypergeometric(n, k, k, ExactRational.Range(300, k)), 1e-12, 0, "upper tail");
        Close(Hypergeometric.LogCdf(n, k, k, 120), ExactRational.LogHypergeometric(n, k, k, ExactRational.Range(0, 120)), 1e-12, 0, "lower tail");
        Close(Hypergeometric.LogSurvival(n, k, k, 190), ExactRational.LogHypergeometric(n, k, k, ExactRational.Range(190, k)), 0, 5e-12, "complement branch");
    }

    [Theory]
    [InlineData(267_264L, 51_766L, 20_000L)]
    [InlineData(1_000L, 10L, 900L)]
    [InlineData(10_000_000_000L, 1_000_000_000L, 3_000_000_000L)]
    public void LawIsSymmetricInSuccessesAndDraws(long n, long k1, long k2)
    {
        var m = Hypergeometric.Moments(n, k1, k2);
        var (lo, hi) = Hypergeometric.Support(n, k1, k2);
        foreach (var z in new[] { -6.0, -1, 0, 0.5, 3, 8, 30 })
        {
            long x = Math.Clamp((long)Math.Round(m.Mean + (z * m.StandardDeviation)), lo, hi);
            Close(Hypergeometric.LogSurvival(n, k2, k1, x), Hypergeometric.LogSurvival(n, k1, k2, x), 1e-12, 1e-14, $"sf x={x}");
            Close(Hypergeometric.LogCdf(n, k2, k1, x), Hypergeometric.LogCdf(n, k1, k2, x), 1e-12, 1e-14, $"cdf x={x}");
            Close(Hypergeometric.LogPmf(n, k2, k1, x), Hypergeometric.LogPmf(n, k1, k2, x), 1e-12, 1e-14, $"pmf x={x}");
        }

        Hypergeometric.Moments(n, k2, k1).Mean.Should().BeApproximately(m.Mean, 1e-9 * m.Mean);
        Hypergeometric.Moments(n, k2, k1).Variance.Should().BeApproximately(m.Variance, 1e-9 * m.Variance);
    }

    [Theory]
    [InlineData(500L, 120L, 200L)]
    [InlineData(267_264L, 51_766L, 51_766L)]
    [InlineData(100_000_000L, 1_000_000L, 1_000_000L)]
    [InlineData(10_000_000_000L, 100_000_000L, 100_000_000L)]
    public void SurvivalAndCdfAreComplementsAndMonotone(long n, long k1, long k2)
    {
        var m = Hypergeometric.Moments(n, k1, k2);
        var (lo, hi) = Hypergeometric.Support(n, k1, k2);
        long from = Math.Max(lo + 1, (long)(m.Mean - (8 * m.StandardDeviation)));
        long to = Math.Min(hi, (long)(m.Mean + (8 * m.StandardDeviation)));
        long step = Math.Max(1, (to - from) / 300);
        double previousSf = 0;
        double previousCdf = double.NegativeInfinity;
        for (long x = from; x <= to; x += step)
        {
            double sf = Hypergeometric.LogSurvival(n, k1, k2, x);
            double cdf = Hypergeometric.LogCdf(n, k1, k2, x - 1);
            (Math.Exp(sf) + Math.Exp(cdf)).Should().BeApproximately(1.0, 1e-12, $"P(X ≥ {x}) + P(X ≤ {x - 1}) = 1");
            sf.Should().BeLessThanOrEqualTo(previousSf, "the survival function decreases");
            cdf.Should().BeGreaterThanOrEqualTo(previousCdf, "the CDF increases");
            sf.Should().BeLessThanOrEqualTo(0);
            previousSf = sf;
            previousCdf = cdf;
        }
    }

    [Fact]
    public void NoOverflowOrNaNUpToTenBillion()
    {
        var rng = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            long n = (long)Math.Pow(10, 1 + (rng.NextDouble() * 9));
            long k1 = rng.NextInt64(n + 1);
            long k2 = rng.NextInt64(n + 1);
            var m = Hypergeometric.Moments(n, k1, k2);
            var (lo, hi) = Hypergeometric.Support(n, k1, k2);
            long x = rng.NextDouble() < 0.5
                ? lo + (long)(rng.NextDouble() * (hi - lo))
                : Math.Clamp((long)(m.Mean + ((rng.NextDouble() * 20) - 10) * m.StandardDeviation), lo, hi);
            string because = $"n={n}, k1={k1}, k2={k2}, x={x}";
            double pmf = Hypergeometric.LogPmf(n, k1, k2, x);
            double sf = Hypergeometric.LogSurvival(n, k1, k2, x);
            double cdf = Hypergeometric.LogCdf(n, k1, k2, x);
            foreach (var v in new[] { pmf, sf, cdf })
            {
                double.IsFinite(v).Should().BeTrue(because);
                v.Should().BeLessThanOrEqualTo(0, because);
            }

            sf.Should().BeGreaterThanOrEqualTo(pmf - 1e-9, "P(X ≥ x) ≥ P(X = x), " + because);
            cdf.Should().BeGreaterThanOrEqualTo(pmf - 1e-9, "P(X ≤ x) ≥ P(X = x), " + because);
        }
    }

    [Fact]
    public void MomentsSupportAndModeFollowTheirFormulas()
    {
        var m = Hypergeometric.Moments(20, 6, 6);
        m.Mean.Should().BeApproximately(1.8, 1e-15);
        m.Variance.Should().BeApproximately(6.0 * 6 * 14 * 14 / (400.0 * 19), 1e-15);
        m.Skewness.Should().BeApproximately(8.0 * 8 * Math.Sqrt(19) / (18 * Math.Sqrt(6.0 * 6 * 14 * 14)), 1e-14);
        Hypergeometric.Support(10, 7, 6).Should().Be((3L, 6L));
        Hypergeometric.Mode(20, 6, 6).Should().Be(2); // ⌊49/22⌋
        Hypergeometric.Moments(0, 0, 0).Should().Be(new HypergeometricMoments(0, 0, 0));
        Hypergeometric.Moments(1, 1, 1).Variance.Should().Be(0);
    }

    [Fact]
    public void DegenerateLawsHaveProbabilityOne()
    {
        Hypergeometric.LogPmf(10, 10, 4, 4).Should().Be(0);
        Hypergeometric.LogSurvival(10, 0, 4, 0).Should().Be(0);
        Hypergeometric.LogCdf(10, 3, 10, 3).Should().Be(0);
        Hypergeometric.LogSurvival(0, 0, 0, 0).Should().Be(0);
    }

    [Fact]
    public void InvalidArgumentsAreRejectedWithTheParameterName()
    {
        FluentActions.Invoking(() => Hypergeometric.LogSurvival(-1, 0, 0, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("population");
        FluentActions.Invoking(() => Hypergeometric.LogSurvival(10, 11, 2, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("successes");
        FluentActions.Invoking(() => Hypergeometric.LogSurvival(10, -1, 2, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("successes");
        FluentActions.Invoking(() => Hypergeometric.LogCdf(10, 3, 12, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("draws");
        FluentActions.Invoking(() => Hypergeometric.LogSurvival(10, 3, 4, 4)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("atLeast").WithMessage("*support [0, 3]*");
        FluentActions.Invoking(() => Hypergeometric.LogCdf(10, 7, 6, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("atMost");
        FluentActions.Invoking(() => Hypergeometric.LogPmf(10, 7, 6, -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("x");
        FluentActions.Invoking(() => Hypergeometric.Moments(5, 2, 6)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("draws");
    }
}
