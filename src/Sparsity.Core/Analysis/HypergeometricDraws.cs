namespace Sparsity.Analysis;

/// <summary>
/// "How many draws for at least one hit with safety Q" (Stömmer 2023, arXiv:2303.16648, eqs. 13–15;
/// docs/statistics.md#multiple-testing): with S good items among N, drawing n distinct items misses them all with probability
/// P(0) = C(N − S, n)/C(N, n).
/// </summary>
public static partial class Hypergeometric
{
    /// <summary>
    /// Stömmer's approximation (eq. 15): n = ⌈N [1 − (1 − Q)^{1/S}]⌉, from P(0) ≈ (1 − S/N)ⁿ. Conservative: every
    /// factor (N − S − i)/(N − i) of the exact P(0) is ≤ 1 − S/N, so the exact hit probability at this n is ≥ Q
    /// and the result is never below <see cref="DrawsForHitExact"/>.
    /// </summary>
    /// <param name="population">Items N ≥ 1.</param>
    /// <param name="successes">Good items S, 1 ≤ S ≤ N.</param>
    /// <param name="safety">Wanted probability Q of at least one good item, 0 &lt; Q &lt; 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static long DrawsForHit(long population, long successes, double safety)
    {
        ValidateDraws(population, successes, safety);
        double fraction = -SpecialFunctions.Expm1(SpecialFunctions.Log1p(-safety) / successes);
        return Math.Min(population, (long)Math.Ceiling(population * fraction));
    }

    /// <summary>
    /// The exact counterpart of <see cref="DrawsForHit"/>: the smallest n with
    /// 1 − C(N − S, n)/C(N, n) ≥ Q, by bisection on the exact ln P(0) (decreasing in n).
    /// </summary>
    /// <param name="population">Items N ≥ 1.</param>
    /// <param name="successes">Good items S, 1 ≤ S ≤ N.</param>
    /// <param name="safety">Wanted probability Q of at least one good item, 0 &lt; Q &lt; 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static long DrawsForHitExact(long population, long successes, double safety)
    {
        ValidateDraws(population, successes, safety);
        double target = SpecialFunctions.Log1p(-safety);
        long lo = 0;
        long hi = population - successes + 1; // P(0) = 0 there
        while (hi - lo > 1)
        {
            long mid = lo + ((hi - lo) / 2);
            if (LogMissProbability(population, successes, mid) <= target)
            {
                hi = mid;
            }
            else
            {
                lo = mid;
            }
        }

        return hi;
    }

    /// <summary>ln P(no good item among <paramref name="draws"/> distinct draws) = ln [C(N − S, n)/C(N, n)]; −∞ when n &gt; N − S.</summary>
    /// <param name="population">Items N ≥ 0.</param>
    /// <param name="successes">Good items S, 0 ≤ S ≤ N.</param>
    /// <param name="draws">Draws n, 0 ≤ n ≤ N.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or exceeds the population.</exception>
    public static double LogMissProbability(long population, long successes, long draws)
    {
        Validate(population, successes, draws);
        return draws > population - successes ? double.NegativeInfinity : LogPmf(population, successes, draws, 0);
    }

    private static void ValidateDraws(long population, long successes, double safety)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(population, 1L);
        if (successes < 1 || successes > population)
        {
            throw new ArgumentOutOfRangeException(nameof(successes), successes,
                $"The number of good items must lie in [1, population = {population}].");
        }

        if (!(safety > 0 && safety < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(safety), safety, "The safety level Q must lie in (0, 1).");
        }
    }
}
