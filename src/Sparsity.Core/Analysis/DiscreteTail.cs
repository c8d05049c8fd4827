namespace Sparsity.Analysis;

/// <summary>
/// A log-concave distribution on the integers Lo…Hi, described by its log-pmf and its two term ratios.
/// Implemented by small structs so that the tail loops below are specialised (no delegate calls).
/// </summary>
internal interface ILogConcaveLaw
{
    /// <summary>Smallest value of the support.</summary>
    long Lo { get; }

    /// <summary>Largest value of the support (long.MaxValue when unbounded).</summary>
    long Hi { get; }

    /// <summary>A mode: P(x + 1)/P(x) &lt; 1 for x ≥ Mode and P(x − 1)/P(x) &lt; 1 for x &lt; Mode.</summary>
    long Mode { get; }

    /// <summary>ln P(X = x) for x in the support.</summary>
    double LogPmf(long x);

    /// <summary>P(x + 1)/P(x).</summary>
    double Up(long x);

    /// <summary>P(x − 1)/P(x).</summary>
    double Down(long x);
}

/// <summary>
/// Exact log tails of log-concave discrete laws by the term-ratio method (as in R's <c>phyper</c>, after
/// Loader 2000): the tail that does not contain the mode is summed as ln P(x) + ln(1 + r₁ + r₁r₂ + …), and
/// the other tail is its complement via <see cref="SpecialFunctions.Log1mExp"/>. Because the ratios keep
/// decreasing away from the mode, the sum starts at 1, never underflows, and stops once the remaining terms
/// (at most a geometric series) fall below 1e-17 of the sum.
/// </summary>
internal static class DiscreteTail
{
    private const double Epsilon = 1e-17;

    /// <summary>ln P(X ≥ x).</summary>
    public static double LogSurvival<T>(in T law, long x)
        where T : struct, ILogConcaveLaw
    {
        if (x <= law.Lo)
        {
            return 0.0;
        }

        return x > law.Mode
            ? law.LogPmf(x) + Math.Log(UpSum(law, x))
            : SpecialFunctions.Log1mExp(Math.Min(0.0, law.LogPmf(x - 1) + Math.Log(DownSum(law, x - 1))));
    }

    /// <summary>ln P(X ≤ x).</summary>
    public static double LogCdf<T>(in T law, long x)
        where T : struct, ILogConcaveLaw
    {
        if (x >= law.Hi)
        {
            return 0.0;
        }

        return x < law.Mode
            ? law.LogPmf(x) + Math.Log(DownSum(law, x))
            : SpecialFunctions.Log1mExp(Math.Min(0.0, law.LogPmf(x + 1) + Math.Log(UpSum(law, x + 1))));
    }

    /// <summary>
    /// O(1) bracket of ln P(X ≥ x): the summed tail lies between its first term and the geometric series
    /// with the first ratio, P(x)/(1 − r), because later ratios are smaller (log-concavity).
    /// </summary>
    public static (double Lower, double Upper) LogSurvivalBracket<T>(in T law, long x)
        where T : struct, ILogConcaveLaw
    {
        if (x <= law.Lo)
        {
            return (0.0, 0.0);
        }

        if (x > law.Mode)
        {
            double l = law.LogPmf(x);
            double r = x < law.Hi ? law.Up(x) : 0.0;
            return (l, Math.Min(0.0, l - SpecialFunctions.Log1p(-r)));
        }

        double lower = law.LogPmf(x - 1);
        double rd = x - 1 > law.Lo ? law.Down(x - 1) : 0.0;
        double upper = Math.Min(0.0, lower - SpecialFunctions.Log1p(-rd));
        return (SpecialFunctions.Log1mExp(upper), SpecialFunctions.Log1mExp(Math.Min(0.0, lower)));
    }

    private static double UpSum<T>(in T law, long x)
        where T : struct, ILogConcaveLaw
    {
        double s = 1.0;
        double t = 1.0;
        for (long i = x; i < law.Hi; i++)
        {
            double r = law.Up(i);
            t *= r;
            s += t;
            if (t * r <= Epsilon * s * (1.0 - r))
            {
                break;
            }
        }

        return s;
    }

    private static double DownSum<T>(in T law, long x)
        where T : struct, ILogConcaveLaw
    {
        double s = 1.0;
        double t = 1.0;
        for (long i = x; i > law.Lo; i--)
        {
            double r = law.Down(i);
            t *= r;
            s += t;
            if (t * r <= Epsilon * s * (1.0 - r))
            {
                break;
            }
        }

        return s;
    }
}
