namespace Sparsity.Analysis;

/// <summary>
/// Normal, binomial and Poisson approximations of the hypergeometric upper tail, each with its documented
/// domain of validity and tolerance (docs/statistics.md#approximations). Use the exact <see cref="LogSurvival"/> for
/// decisions; these exist for comparison with published figures and for quick estimates.
/// </summary>
public static partial class Hypergeometric
{
    /// <summary>Tolerance of <see cref="NormalLogSurvival"/> inside <see cref="IsNormalApproximationValid"/>, in decades (log₁₀).</summary>
    public const double NormalToleranceDecades = NormalTolerance;

    /// <summary>
    /// Relative tolerance of <see cref="BinomialLogSurvival"/> and <see cref="PoissonLogSurvival"/> inside their
    /// domains: |ln p_approx − ln p| ≤ this × max(1, |ln p|).
    /// </summary>
    public const double LogRelativeTolerance = RelativeTolerance;

    /// <summary>Largest drawn fraction min(k₁, k₂)/n for which <see cref="IsBinomialApproximationValid"/> holds.</summary>
    public const double BinomialMaxFraction = 0.01;

    /// <summary>Largest kept fraction max(k₁, k₂)/n for which <see cref="IsPoissonApproximationValid"/> holds.</summary>
    public const double PoissonMaxFraction = 0.01;

    /// <summary>
    /// Largest depletion x/max(k₁, k₂) (binomial) or x/min(k₁, k₂) (Poisson) inside the domains: beyond it the
    /// overlap uses up a noticeable part of a pool that the approximation treats as inexhaustible.
    /// </summary>
    public const double MaxDepletion = 0.05;

    /// <summary>Largest |skewness| of the law for which <see cref="IsNormalApproximationValid"/> holds.</summary>
    public const double NormalMaxSkewness = 0.02;

    // Measured maxima over 6e5 random cases with n in [1e2, 1e10] (see the tests): normal 0.155 decades,
    // binomial 0.019 and Poisson 0.034 relative; the stated tolerances keep a margin.
    private const double NormalTolerance = 0.2;
    private const double RelativeTolerance = 0.05;

    /// <summary>
    /// Continuity-corrected normal approximation ln Φ̄((x − ½ − μ)/σ) of ln P(X ≥ x). Anti-conservative in the
    /// right tail when k/n &lt; ½ (the law is right-skewed): 0.04–0.09 decades too small at z = 5, 4.6 decades at
    /// z ≈ 25, absurd when μ is tiny.
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogSurvival"/>.</exception>
    public static double NormalLogSurvival(long population, long successes, long draws, long atLeast)
    {
        Create(population, successes, draws, atLeast, nameof(atLeast));
        var m = Moments(population, successes, draws);
        if (m.Variance == 0)
        {
            return 0.0;
        }

        return SpecialFunctions.LogNormalSurvival((atLeast - 0.5 - m.Mean) / m.StandardDeviation);
    }

    /// <summary>
    /// Domain of <see cref="NormalLogSurvival"/>: σ² ≥ 25, |z| ≤ 4 with z = (x − ½ − μ)/σ, and
    /// |skewness| ≤ <see cref="NormalMaxSkewness"/> (the error grows like skewness × z³). Inside it the
    /// approximation is within <see cref="NormalToleranceDecades"/> decades of the exact tail.
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogSurvival"/>.</exception>
    public static bool IsNormalApproximationValid(long population, long successes, long draws, long atLeast)
    {
        Create(population, successes, draws, atLeast, nameof(atLeast));
        var m = Moments(population, successes, draws);
        return m.Variance >= 25 && Math.Abs((atLeast - 0.5 - m.Mean) / m.StandardDeviation) <= 4
               && Math.Abs(m.Skewness) <= NormalMaxSkewness;
    }

    /// <summary>
    /// Binomial approximation: ln P(Y ≥ x) with Y ~ Binomial(min(k₁, k₂), max(k₁, k₂)/n), i.e. the smaller mask's
    /// kept weights drawn with replacement. Conservative (a larger p) above the mean, by about the drawn fraction
    /// f = min(k₁, k₂)/n in relative log terms: 1.1 decades off at f ≈ 0.19 and z = 5.
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogSurvival"/>.</exception>
    public static double BinomialLogSurvival(long population, long successes, long draws, long atLeast)
    {
        Create(population, successes, draws, atLeast, nameof(atLeast));
        if (population == 0)
        {
            return 0.0;
        }

        long trials = Math.Min(successes, draws);
        double p = (double)Math.Max(successes, draws) / population;
        return Binomial.LogSurvival(trials, p, atLeast);
    }

    /// <summary>
    /// Domain of <see cref="BinomialLogSurvival"/>: x ≥ μ, min(k₁, k₂)/n ≤ <see cref="BinomialMaxFraction"/> and
    /// x ≤ <see cref="MaxDepletion"/> × max(k₁, k₂).
    /// Inside it |ln p_binomial − ln p| ≤ <see cref="LogRelativeTolerance"/> × max(1, |ln p|).
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogSurvival"/>.</exception>
    public static bool IsBinomialApproximationValid(long population, long successes, long draws, long atLeast)
    {
        Create(population, successes, draws, atLeast, nameof(atLeast));
        return population > 0 && atLeast >= Moments(population, successes, draws).Mean
               && (double)Math.Min(successes, draws) / population <= BinomialMaxFraction
               && atLeast <= MaxDepletion * Math.Max(successes, draws);
    }

    /// <summary>
    /// Poisson approximation: ln P(Y ≥ x) with Y ~ Poisson(μ), μ = k₁k₂/n. Conservative above the mean; off by
    /// 0.009 decades at n = 1e8, k = 1e3.
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogSurvival"/>.</exception>
    public static double PoissonLogSurvival(long population, long successes, long draws, long atLeast)
    {
        Create(population, successes, draws, atLeast, nameof(atLeast));
        var mean = Moments(population, successes, draws).Mean;
        if (mean == 0)
        {
            return atLeast == 0 ? 0.0 : double.NegativeInfinity;
        }

        return Poisson.LogSurvival(mean, atLeast);
    }

    /// <summary>
    /// Domain of <see cref="PoissonLogSurvival"/>: x ≥ μ, max(k₁, k₂)/n ≤ <see cref="PoissonMaxFraction"/>
    /// (both masks sparse) and x ≤ <see cref="MaxDepletion"/> × min(k₁, k₂). Inside it |ln p_Poisson − ln p| ≤ <see cref="LogRelativeTolerance"/> × max(1, |ln p|).
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogSurvival"/>.</exception>
    public static bool IsPoissonApproximationValid(long population, long successes, long draws, long atLeast)
    {
        Create(population, successes, draws, atLeast, nameof(atLeast));
        return population > 0 && atLeast >= Moments(population, successes, draws).Mean
               && (double)Math.Max(successes, draws) / population <= PoissonMaxFraction
               && atLeast <= MaxDepletion * Math.Min(successes, draws);
    }
}
