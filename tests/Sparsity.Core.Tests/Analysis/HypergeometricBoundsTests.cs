using Sparsity.Analysis;
using static Sparsity.Tests.Analysis.AnalysisFixtures;

namespace Sparsity.Tests.Analysis;

public sealed class HypergeometricBoundsTests
{
    [Theory]
    [MemberData(nameof(AnalysisFixtures.HypergeometricRows), MemberType = typeof(AnalysisFixtures))]
    public void KlBoundMatchesReferenceAndLiesAboveTheExactTail(int row)
    {
        var v = AnalysisFixtures.Vectors[row];
        double bound = Hypergeometric.LogSurvivalUpperBound(v.N, v.K1, v.K2, v.X);
        Close(bound / SpecialFunctions.Ln10, v.KlLog10Bound, 1e-9, 1e-12, $"KL bound, {v}");
        bound.Should().BeGreaterThanOrEqualTo(v.LnSf, "a Chernoff bound is an upper bound");
    }

    [Theory]
    [MemberData(nameof(AnalysisFixtures.HypergeometricRows), MemberType = typeof(AnalysisFixtures))]
    public void BracketContainsTheExactTail(int row)
    {
        var v = AnalysisFixtures.Vectors[row];
        var (lower, upper) = Hypergeometric.LogSurvivalBracket(v.N, v.K1, v.K2, v.X);
        lower.Should().BeLessThanOrEqualTo(v.LnSf + 1e-12, v.ToString());
        upper.Should().BeGreaterThanOrEqualTo(v.LnSf - 1e-12, v.ToString());
    }

    [Theory]
    [InlineData(267_264L, 51_766L, 10_431L, -6.4959, -6.5107)]
    [InlineData(267_264L, 51_766L, 12_032L, -131.0935, -131.0940)]
    public void BracketTightnessMatchesTheDesignNotes(long n, long k, long x, double upperLog10, double exactLog10)
    {
        var (lower, upper) = Hypergeometric.LogSurvivalBracket(n, k, k, x);
        (upper / SpecialFunctions.Ln10).Should().BeApproximately(upperLog10, 5e-5);
        (lower / SpecialFunctions.Ln10).Should().BeLessThan(exactLog10);
    }

    [Fact]
    public void BracketIsSixDecimalsTightWhenTheFirstRatioIsBelowATenth()
    {
        // 2.5e7 case: ratio at x is tiny, so both ends agree with the exact −1 022 153.723721 decades.
        var (lower, upper) = Hypergeometric.LogSurvivalBracket(25_000_000, 2_500_000, 2_500_000, 1_500_000);
        (lower / SpecialFunctions.Ln10).Should().BeApproximately(-1_022_153.723721, 0.04);
        (upper / SpecialFunctions.Ln10).Should().BeApproximately(-1_022_153.723721, 1e-6);
    }

    [Fact]
    public void LowerTailKlBoundHoldsBelowTheMeanAndIsTrivialAbove()
    {
        foreach (var x in new long[] { 9_000, 9_700, 10_000, 10_026, 10_100 })
        {
            double bound = Hypergeometric.LogCdfUpperBound(267_264, 51_766, 51_766, x);
            bound.Should().BeGreaterThanOrEqualTo(Hypergeometric.LogCdf(267_264, 51_766, 51_766, x));
            if (x > 10_026.49)
            {
                bound.Should().Be(0);
            }
        }

        Hypergeometric.LogSurvivalUpperBound(267_264, 51_766, 51_766, 10_000).Should().Be(0, "no bound below the mean");
    }

    [Fact]
    public void StratifiedBoundForOneLayerIsTheBinomialKlExponent()
    {
        // One stratum: min over λ of m ln(1 − p + p e^λ) − λ s equals −m D(s/m ‖ p) with m = min(k1, k2), p = max/n.
        const long n = 1_000_000, k1 = 30_000, k2 = 10_000, s = 420;
        double expected = -k2 * SpecialFunctions.BernoulliKl((double)s / k2, (double)k1 / n);
        double bound = Hypergeometric.StratifiedLogSurvivalUpperBound([new HypergeometricStratum(n, k1, k2)], s);
        bound.Should().BeApproximately(expected, 1e-9 * Math.Abs(expected));
    }

    [Fact]
    public void StratifiedBoundOnHandCaseBoundsTheExactConvolution()
    {
        // Layers Hyp(10, 5, 5) and Hyp(10, 1, 1); P(S ≥ 5) = P(Xa = 5)·0.9 + P(Xa ≥ 4)·0.1 = (0.9 + 2.6)/252.
        HypergeometricStratum[] strata = [new(10, 5, 5), new(10, 1, 1)];
        double exact = Math.Log(3.5 / 252);
        double bound = Hypergeometric.StratifiedLogSurvivalUpperBound(strata, 5);
        bound.Should().BeGreaterThanOrEqualTo(exact).And.BeLessThan(0);
        Hypergeometric.StratifiedLogSurvivalUpperBound(strata, 6).Should().BeApproximately((5 * Math.Log(0.5)) + Math.Log(0.1), 1e-12,
            "at the maximum the bound is Σ m ln p (all trials succeed)");
        Hypergeometric.StratifiedLogSurvivalUpperBound(strata, 2).Should().Be(0, "below the mean 2.6 there is no bound");
    }

    [Fact]
    public void StratifiedBoundLiesAboveExactConvolutionOnRandomSmallCases()
    {
        var rng = new Random(3);
        for (int trial = 0; trial < 200; trial++)
        {
            int layers = rng.Next(1, 5);
            var strata = new List<HypergeometricStratum>();
            double[] pmf = [1.0];
            for (int l = 0; l < layers; l++)
            {
                long n = rng.Next(1, 60);
                var s = new HypergeometricStratum(n, rng.NextInt64(n + 1), rng.NextInt64(n + 1));
                strata.Add(s);
                pmf = Convolve(pmf, LayerPmf(s));
            }

            long lo = strata.Sum(s => Hypergeometric.Support(s.Population, s.Successes, s.Draws).Min);
            long hi = strata.Sum(s => Hypergeometric.Support(s.Population, s.Successes, s.Draws).Max);
            for (long x = lo; x <= hi; x++)
            {
                double tail = pmf.Skip((int)x).Sum();
                Hypergeometric.StratifiedLogSurvivalUpperBound(strata, x).Should().BeGreaterThanOrEqualTo(Math.Log(tail) - 1e-9,
                    $"strata {string.Join(";", strata)}, s = {x}");
            }
        }
    }

    [Fact]
    public void StratifiedBoundRejectsBadInput()
    {
        FluentActions.Invoking(() => Hypergeometric.StratifiedLogSurvivalUpperBound([], 0)).Should().Throw<ArgumentException>().WithParameterName("strata");
        FluentActions.Invoking(() => Hypergeometric.StratifiedLogSurvivalUpperBound([new(10, 5, 5)], 6)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("atLeast");
        FluentActions.Invoking(() => Hypergeometric.StratifiedLogSurvivalUpperBound([new(10, 11, 5)], 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("successes");
    }

    private static double[] LayerPmf(HypergeometricStratum s)
    {
        var (lo, hi) = Hypergeometric.Support(s.Population, s.Successes, s.Draws);
        var p = new double[hi + 1];
        for (long x = lo; x <= hi; x++)
        {
            p[x] = Math.Exp(ExactRational.LogHypergeometric(s.Population, s.Successes, s.Draws, [x]));
        }

        return p;
    }

    private static double[] Convolve(double[] a, double[] b)
    {
        var r = new double[a.Length + b.Length - 1];
        for (int i = 0; i < a.Length; i++)
        {
            for (int j = 0; j < b.Length; j++)
            {
                r[i + j] += a[i] * b[j];
            }
        }

        return r;
    }
}
