namespace Sparsity.Analysis;

/// <summary>Chernoff/Kullback–Leibler upper bounds on hypergeometric tails (docs/statistics.md#chernoff-bounds).</summary>
public static partial class Hypergeometric
{
    /// <summary>
    /// Chernoff/KL upper bound on ln P(X ≥ atLeast), valid for every population size and never underflowing:
    /// ln P(X ≥ x) ≤ −max{k₂ D(x/k₂ ‖ k₁/n), k₁ D(x/k₁ ‖ k₂/n)} for x ≥ μ, and 0 below the mean.
    /// </summary>
    /// <remarks>
    /// Hoeffding (1963, Theorem 4): sampling without replacement is dominated by sampling with replacement in
    /// the convex order, so E e^{λX} ≤ E e^{λY} with Y ~ Binomial(k₂, k₁/n), and the binomial Chernoff bound
    /// −k₂ D(x/k₂ ‖ k₁/n) holds for X; by the symmetry in k₁, k₂ the other orientation holds too. The KL terms are
    /// evaluated as sums of saddle-point deviances, k D(x/k ‖ p) = bd0(x, kp) + bd0(k − x, k(1 − p)), which stay
    /// exact near the mean. Loose by a polynomial factor (about 1.2 decades at z = 5), safe everywhere.
    /// </remarks>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atLeast">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogSurvival"/>.</exception>
    public static double LogSurvivalUpperBound(long population, long successes, long draws, long atLeast)
    {
        Create(population, successes, draws, atLeast, nameof(atLeast));
        var mean = Moments(population, successes, draws).Mean;
        return atLeast <= mean ? 0.0 : -KlExponent(population, successes, draws, atLeast);
    }

    /// <summary>
    /// Chernoff/KL upper bound on ln P(X ≤ atMost): the mirror image of <see cref="LogSurvivalUpperBound"/>
    /// (the same exponent, for x ≤ μ; 0 above the mean).
    /// </summary>
    /// <param name="population">Population size n ≥ 0.</param>
    /// <param name="successes">Marked items k₁, 0 ≤ k₁ ≤ n.</param>
    /// <param name="draws">Drawn items k₂, 0 ≤ k₂ ≤ n.</param>
    /// <param name="atMost">Observed overlap, inside the support.</param>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="LogCdf"/>.</exception>
    public static double LogCdfUpperBound(long population, long successes, long draws, long atMost)
    {
        Create(population, successes, draws, atMost, nameof(atMost));
        var mean = Moments(population, successes, draws).Mean;
        return atMost >= mean ? 0.0 : -KlExponent(population, successes, draws, atMost);
    }

    /// <summary>
    /// Chernoff upper bound on ln P(S ≥ atLeast) for the layer-stratified overlap S = Σ_l X_l, independent
    /// X_l ~ Hypergeometric(n_l, k₁_l, k₂_l): min over λ ≥ 0 of Σ_l m_l ln(1 − p_l + p_l e^λ) − λ·atLeast, with
    /// m_l = min(k₁_l, k₂_l) trials and p_l = max(k₁_l, k₂_l)/n_l (docs/statistics.md#chernoff-bounds).
    /// </summary>
    /// <remarks>
    /// Validity: each X_l is dominated in the convex order by Binomial(m_l, p_l) (Hoeffding 1963, Theorem 4, with
    /// the k₁ ↔ k₂ symmetry), so E e^{λX_l} ≤ (1 − p_l + p_l e^λ)^{m_l}; independence makes the moment generating
    /// function of S the product, and Markov's inequality on e^{λS} gives the bound for every λ ≥ 0. The
    /// orientation with the fewer trials is the one with the smaller binomial variance. The minimising λ solves
    /// Σ_l m_l p_l e^λ/(1 − p_l + p_l e^λ) = atLeast (safeguarded Newton); any λ gives a valid bound, so the
    /// result is safe even where the iteration stops early. For one stratum it equals −m D(x/m ‖ p).
    /// </remarks>
    /// <param name="strata">The layers' hypergeometric parameters (at least one).</param>
    /// <param name="atLeast">Observed total overlap, in [Σ min support, Σ max support].</param>
    /// <exception cref="ArgumentException">No strata.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A stratum is invalid, or atLeast is outside the support of S.</exception>
    public static double StratifiedLogSurvivalUpperBound(IReadOnlyList<HypergeometricStratum> strata, long atLeast)
    {
        ArgumentNullException.ThrowIfNull(strata);
        if (strata.Count == 0)
        {
            throw new ArgumentException("At least one stratum is needed.", nameof(strata));
        }

        long lo = 0;
        long hi = 0;
        double mean = 0;
        foreach (var s in strata)
        {
            var (min, max) = Support(s.Population, s.Successes, s.Draws);
            lo += min;
            hi += max;
            mean += Moments(s.Population, s.Successes, s.Draws).Mean;
        }

        if (atLeast < lo || atLeast > hi)
        {
            throw new ArgumentOutOfRangeException(nameof(atLeast), atLeast,
                $"The total overlap must lie in the support [{lo}, {hi}] of the stratified sum.");
        }

        if (atLeast <= mean)
        {
            return 0.0;
        }

        var trials = new double[strata.Count];
        var probs = new double[strata.Count];
        double maxSum = 0;
        double allSuccess = 0;
        for (int i = 0; i < strata.Count; i++)
        {
            var s = strata[i];
            trials[i] = Math.Min(s.Successes, s.Draws);
            probs[i] = s.Population == 0 ? 0.0 : (double)Math.Max(s.Successes, s.Draws) / s.Population;
            maxSum += trials[i];
            allSuccess += trials[i] == 0 ? 0.0 : trials[i] * Math.Log(probs[i]);
        }

        if (atLeast >= maxSum)
        {
            return Math.Min(0.0, allSuccess);
        }

        double lambda = SolveTilt(trials, probs, atLeast);
        return Math.Min(0.0, ChernoffExponent(trials, probs, lambda, atLeast));
    }

    private static double KlExponent(long population, long successes, long draws, long x)
    {
        double n = population;
        return Math.Max(
            BinomialKl(draws, successes / n, (n - successes) / n, x),
            BinomialKl(successes, draws / n, (n - draws) / n, x));
    }

    // m D(x/m ‖ p) = bd0(x, m p) + bd0(m − x, m q).
    private static double BinomialKl(long trials, double p, double q, long x)
    {
        if (trials == 0)
        {
            return 0.0;
        }

        return SpecialFunctions.Deviance(x, trials * p) + SpecialFunctions.Deviance(trials - x, trials * q);
    }

    // Σ m ln(1 − p + p e^λ) − λ s, each log term in a cancellation-free form.
    private static double ChernoffExponent(double[] trials, double[] probs, double lambda, double s)
    {
        double total = -lambda * s;
        double em1 = SpecialFunctions.Expm1(lambda);
        for (int i = 0; i < trials.Length; i++)
        {
            if (trials[i] == 0 || probs[i] == 0)
            {
                continue;
            }

            double a = probs[i] * em1;
            total += trials[i] * (a <= 1
                ? SpecialFunctions.Log1p(a)
                : lambda + Math.Log(probs[i]) + SpecialFunctions.Log1p((1 - probs[i]) / probs[i] * Math.Exp(-lambda)));
        }

        return total;
    }

    // Tilted mean Σ m p e^λ/(1 − p + p e^λ) and its derivative with respect to λ.
    private static (double Value, double Slope) TiltedMean(double[] trials, double[] probs, double lambda)
    {
        double value = 0;
        double slope = 0;
        for (int i = 0; i < trials.Length; i++)
        {
            if (trials[i] == 0 || probs[i] == 0)
            {
                continue;
            }

            double w = (1 - probs[i]) / probs[i] * Math.Exp(-lambda);
            value += trials[i] / (1 + w);
            slope += trials[i] * w / ((1 + w) * (1 + w));
        }

        return (value, slope);
    }

    private static double SolveTilt(double[] trials, double[] probs, double s)
    {
        double lo = 0;
        double hi = 1;
        while (TiltedMean(trials, probs, hi).Value < s && hi < 1e4)
        {
            lo = hi;
            hi *= 2;
        }

        double lambda = 0.5 * (lo + hi);
        for (int iter = 0; iter < 200; iter++)
        {
            var (value, slope) = TiltedMean(trials, probs, lambda);
            if (value < s)
            {
                lo = lambda;
            }
            else
            {
                hi = lambda;
            }

            double next = slope > 0 ? lambda - ((value - s) / slope) : double.NaN;
            if (!(next > lo && next < hi))
            {
                next = 0.5 * (lo + hi);
            }

            if (Math.Abs(next - lambda) <= 1e-15 * Math.Max(1.0, lambda))
            {
                return next;
            }

            lambda = next;
        }

        return lambda;
    }
}
