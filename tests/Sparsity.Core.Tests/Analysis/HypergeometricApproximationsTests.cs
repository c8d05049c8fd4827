using Sparsity.Analysis;
using static Sparsity.Tests.Analysis.AnalysisFixtures;

namespace Sparsity.Tests.Analysis;

public sealed class HypergeometricApproximationsTests
{
    [Theory]
    [MemberData(nameof(AnalysisFixtures.HypergeometricRows), MemberType = typeof(AnalysisFixtures))]
    public void ApproximationsReproduceTheReferenceValues(int row)
    {
        var v = AnalysisFixtures.Vectors[row];
        Close(Hypergeometric.NormalLogSurvival(v.N, v.K1, v.K2, v.X) / SpecialFunctions.Ln10, v.NormalLog10Sf, 1e-9, 1e-12, $"normal, {v}");
        if (v.BinomialLog10Sf != 0)
        {
            Close(Hypergeometric.BinomialLogSurvival(v.N, v.K1, v.K2, v.X) / SpecialFunctions.Ln10, v.BinomialLog10Sf, 1e-9, 1e-12, $"binomial, {v}");
            Close(Hypergeometric.PoissonLogSurvival(v.N, v.K1, v.K2, v.X) / SpecialFunctions.Ln10, v.PoissonLog10Sf, 1e-9, 1e-12, $"Poisson, {v}");
        }
    }

    [Theory]
    [InlineData(267_264L, 51_766L, 10_431L, -6.551688, -5.411733, -4.517343)]
    [InlineData(267_264L, 51_766L, 12_032L, -135.711055, -104.785355, -83.481469)]
    [InlineData(100_000_000L, 1_000_000L, 10_496L, -6.554027, -6.412039, -6.356152)]
    [InlineData(100_000_000L, 1_000_000L, 10_991L, -23.140208, -22.250480, -22.033079)]
    [InlineData(100_000_000L, 1_000L, 5L, -439.83131617, -12.087131, -12.082800)]
    [InlineData(100_000_000L, 10_000L, 10L, -17.02639337, -6.954597, -6.953015)]
    public void DesignNoteApproximationColumnsRoundToThePrintedDigits(long n, long k, long x, double normal, double binomial, double poisson)
    {
        (Hypergeometric.NormalLogSurvival(n, k, k, x) / SpecialFunctions.Ln10).Should().BeApproximately(normal, 5.0000001e-7);
        (Hypergeometric.BinomialLogSurvival(n, k, k, x) / SpecialFunctions.Ln10).Should().BeApproximately(binomial, 5.0000001e-7);
        (Hypergeometric.PoissonLogSurvival(n, k, k, x) / SpecialFunctions.Ln10).Should().BeApproximately(poisson, 5.0000001e-7);
        double exact = Hypergeometric.LogSurvival(n, k, k, x);
        Hypergeometric.BinomialLogSurvival(n, k, k, x).Should().BeGreaterThan(exact, "the binomial approximation is conservative here");
        Hypergeometric.PoissonLogSurvival(n, k, k, x).Should().BeGreaterThan(exact, "the Poisson approximation is conservative here");
        Hypergeometric.NormalLogSurvival(n, k, k, x).Should().BeLessThan(exact, "the normal approximation is anti-conservative here");
    }

    [Fact]
    public void InsideTheirDomainsApproximationsMeetTheStatedTolerances()
    {
        var rng = new Random(2024);
        int normal = 0, binomial = 0, poisson = 0;
        for (int i = 0; i < 20_000; i++)
        {
            long n = (long)Math.Pow(10, 2 + (rng.NextDouble() * 8));
            double f1 = Math.Pow(10, -4 * rng.NextDouble());
            double f2 = rng.NextDouble() < 0.3 ? f1 : Math.Pow(10, -4 * rng.NextDouble());
            long k1 = (long)(n * f1);
            long k2 = (long)(n * f2);
            var m = Hypergeometric.Moments(n, k1, k2);
            var (lo, hi) = Hypergeometric.Support(n, k1, k2);
            long x = Math.Clamp((long)Math.Round(m.Mean + (((rng.NextDouble() * 14) - 4) * Math.Max(1, m.StandardDeviation))), lo, hi);
            string because = $"n={n}, k1={k1}, k2={k2}, x={x}";
            double exact = Hypergeometric.LogSurvival(n, k1, k2, x);
            double allowed = Hypergeometric.LogRelativeTolerance * Math.Max(1, -exact);
            if (Hypergeometric.IsNormalApproximationValid(n, k1, k2, x))
            {
                normal++;
                Math.Abs(Hypergeometric.NormalLogSurvival(n, k1, k2, x) - exact).Should()
                    .BeLessThanOrEqualTo(Hypergeometric.NormalToleranceDecades * SpecialFunctions.Ln10, "normal, " + because);
            }

            if (Hypergeometric.IsBinomialApproximationValid(n, k1, k2, x))
            {
                binomial++;
                Math.Abs(Hypergeometric.BinomialLogSurvival(n, k1, k2, x) - exact).Should().BeLessThanOrEqualTo(allowed, "binomial, " + because);
            }

            if (Hypergeometric.IsPoissonApproximationValid(n, k1, k2, x))
            {
                poisson++;
                Math.Abs(Hypergeometric.PoissonLogSurvival(n, k1, k2, x) - exact).Should().BeLessThanOrEqualTo(allowed, "Poisson, " + because);
            }
        }

        normal.Should().BeGreaterThan(300, "the sweep must exercise the normal domain");
        binomial.Should().BeGreaterThan(300, "the sweep must exercise the binomial domain");
        poisson.Should().BeGreaterThan(300, "the sweep must exercise the Poisson domain");
    }

    [Fact]
    public void DomainsExcludeTheCasesTheNotesCallInvalid()
    {
        Hypergeometric.IsNormalApproximationValid(100_000_000, 1_000, 1_000, 5).Should().BeFalse("μ = 0.01");
        Hypergeometric.IsNormalApproximationValid(267_264, 51_766, 51_766, 12_032).Should().BeFalse("z ≈ 25");
        Hypergeometric.IsBinomialApproximationValid(267_264, 51_766, 51_766, 10_431).Should().BeFalse("k/n ≈ 0.19");
        Hypergeometric.IsPoissonApproximationValid(267_264, 51_766, 51_766, 10_431).Should().BeFalse("k/n ≈ 0.19");
        Hypergeometric.IsBinomialApproximationValid(100_000_000, 1_000_000, 1_000_000, 10_496).Should().BeTrue();
        Hypergeometric.IsPoissonApproximationValid(100_000_000, 1_000, 1_000, 5).Should().BeTrue();
        Hypergeometric.IsNormalApproximationValid(100_000_000, 50_000_000, 50_000_000, 25_010_000).Should().BeTrue();
    }
}
