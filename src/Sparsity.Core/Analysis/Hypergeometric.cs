namespace Sparsity.Analysis;

/// <summary>
/// The hypergeometric law of the overlap X = |A ∩ B| of two random subsets: a population of
/// <c>population</c> items (weights), <c>successes</c> of them marked (kept by mask A), <c>draws</c> of them
/// drawn uniformly without replacement (kept by mask B). Counts are <see cref="long"/> (models beyond 2³¹
/// weights) and probabilities are natural logarithms (p-values of 1e-300 and far below are normal here).
/// The law is symmetric in <c>successes</c> and <c>draws</c>.
/// </summary>
/// <remarks>
/// The mathematics: docs/statistics.md#null-distribution-of-the-overlap and #exact-upper-tail. The exact tails follow the term-ratio method of R's
/// <c>phyper</c>; the log-pmf uses Loader's (2000) saddle-point form, so that ln P stays within about 1e-12
/// absolute at a population of 1e10 (differences of double log-gamma values lose about 1e-4 there).
/// </remarks>
public static partial class Hypergeometric
{
    /// <summary>Mean, variance and skewness of the overlap (docs/statistics.md#null-distribution-of-the-overlap).</summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or exceeds the population.</exception>
    public static HypergeometricMoments Moments(long population, long successes, long draws)
    {
        Validate(population, successes, draws);
        if (population == 0)
        {
            return new HypergeometricMoments(0, 0, 0);
        }

        double n = population;
        double mean = successes * (draws / n);
        double variance = population == 1
            ? 0.0
            : mean * ((n - successes) / n) * ((n - draws) / (n - 1));
        double skewness = variance == 0 || population <= 2
            ? 0.0
            : (n - (2.0 * successes)) * (n - (2.0 * draws)) * Math.Sqrt(n - 1)
              / ((n - 2) * Math.Sqrt((double)successes * draws * (n - successes) * (n - draws)));
        return new HypergeometricMoments(mean, variance, skewness);
    }

    /// <summary>The support [max(0, k₁ + k₂ − n), min(k₁, k₂)] of the overlap.</summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or exceeds the population.</exception>
    public static (long Min, long Max) Support(long population, long successes, long draws)
    {
        Validate(population, successes, draws);
        return (Math.Max(0, successes + draws - population), Math.Min(successes, draws));
    }

    /// <summary>The mode ⌊(k₁ + 1)(k₂ + 1)/(n + 2)⌋ (the smaller one when two values tie).</summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or exceeds the population.</exception>
    public static long Mode(long population, long successes, long draws)
    {
        Validate(population, successes, draws);
        return new Law(population, successes, draws).Mode;
    }

    /// <summary>
    /// ln P(X = x) = ln [C(k₁, x) C(n − k₁, k₂ − x) / C(n, k₂)], computed as a combination of three binomial
    /// saddle-point terms with p = k₂/n (Loader 2000, as in R's <c>dhyper</c>).
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="x">Overlap, inside the support (see <see cref="Support"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, exceeds the population, or x is outside the support.</exception>
    public static double LogPmf(long population, long successes, long draws, long x)
    {
        var law = Create(population, successes, draws, x, nameof(x));
        return law.LogPmf(x);
    }

    /// <summary>
    /// ln P(X ≥ atLeast), exact (docs/statistics.md#exact-upper-tail): the tail that excludes the mode is summed by term ratios
    /// normalised by the pmf at its first value, the other one is a log1mexp complement. Cost: about
    /// ln(1e17)/(−ln r) terms, r the first ratio (a few to a few hundred thousand at n = 1e10).
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, exceeds the population, or atLeast is outside the support.</exception>
    public static double LogSurvival(long population, long successes, long draws, long atLeast)
    {
        var law = Create(population, successes, draws, atLeast, nameof(atLeast));
        return DiscreteTail.LogSurvival(law, atLeast);
    }

    /// <summary>ln P(X ≤ atMost), exact (the mirror image of <see cref="LogSurvival"/>).</summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atMost">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, exceeds the population, or atMost is outside the support.</exception>
    public static double LogCdf(long population, long successes, long draws, long atMost)
    {
        var law = Create(population, successes, draws, atMost, nameof(atMost));
        return DiscreteTail.LogCdf(law, atMost);
    }

    /// <summary>log₁₀ P(X ≥ atLeast): <see cref="LogSurvival"/> in decades, for reports.</summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogSurvival"/>.</exception>
    public static double Log10Survival(long population, long successes, long draws, long atLeast) =>
        LogSurvival(population, successes, draws, atLeast) / SpecialFunctions.Ln10;

    /// <summary>
    /// O(1) bracket of ln P(X ≥ atLeast) without summation (docs/statistics.md#bracket-without-summation): above the mode,
    /// ln P(x) ≤ ln p ≤ ln P(x) − ln(1 − r), r = P(x + 1)/P(x); at or below it the same bracket of the lower tail,
    /// complemented. Tight (6 decimals) when r &lt; 0.1; useless near the mean where r → 1.
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogSurvival"/>.</exception>
    public static (double Lower, double Upper) LogSurvivalBracket(long population, long successes, long draws, long atLeast)
    {
        var law = Create(population, successes, draws, atLeast, nameof(atLeast));
        return DiscreteTail.LogSurvivalBracket(law, atLeast);
    }

    private static void Validate(long population, long successes, long draws)
    {
        if (population < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(population), population, "The population size must be ≥ 0.");
        }

        if (successes < 0 || successes > population)
        {
            throw new ArgumentOutOfRangeException(nameof(successes), successes,
                $"The number of marked items (successes) must lie in [0, population = {population}].");
        }

        if (draws < 0 || draws > population)
        {
            throw new ArgumentOutOfRangeException(nameof(draws), draws,
                $"The number of drawn items (draws) must lie in [0, population = {population}].");
        }
    }

    private static Law Create(long population, long successes, long draws, long x, string paramName)
    {
        Validate(population, successes, draws);
        var law = new Law(population, successes, draws);
        if (x < law.Lo || x > law.Hi)
        {
            throw new ArgumentOutOfRangeException(paramName, x,
                $"The overlap must lie in the support [{law.Lo}, {law.Hi}] of Hypergeometric(population = {population}, " +
                $"successes = {successes}, draws = {draws}).");
        }

        return law;
    }

    /// <summary>Hypergeometric(n, k₁, k₂) as a log-concave law for <see cref="DiscreteTail"/>.</summary>
    private readonly struct Law : ILogConcaveLaw
    {
        private readonly double _n;
        private readonly double _k1;
        private readonly double _k2;
        private readonly long _population;
        private readonly long _successes;
        private readonly long _draws;

        public Law(long population, long successes, long draws)
        {
            _population = population;
            _successes = successes;
            _draws = draws;
            _n = population;
            _k1 = successes;
            _k2 = draws;
            Lo = Math.Max(0, successes + draws - population);
            Hi = Math.Min(successes, draws);
            // ⌊(k₁ + 1)(k₂ + 1)/(n + 2)⌋ in exact integer arithmetic (the product needs 128 bits beyond ~3e9).
            Mode = (long)(((Int128)(successes + 1) * (draws + 1)) / (population + 2));
        }

        public long Lo { get; }

        public long Hi { get; }

        public long Mode { get; }

        public double LogPmf(long x)
        {
            if (Lo == Hi)
            {
                return 0.0;
            }

            double p = _k2 / _n;
            double q = (_n - _k2) / _n;
            return SpecialFunctions.LogBinomialPmf(x, _successes, p, q)
                   + SpecialFunctions.LogBinomialPmf(_draws - x, _population - _successes, p, q)
                   - SpecialFunctions.LogBinomialPmf(_draws, _population, p, q);
        }

        public double Up(long x) =>
            (_k1 - x) / (x + 1.0) * ((_k2 - x) / (_n - _k1 - _k2 + x + 1.0));

        public double Down(long x) =>
            x / (_k1 - x + 1.0) * ((_n - _k1 - _k2 + x) / (_k2 - x + 1.0));
    }
}
