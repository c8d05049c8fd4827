namespace Sparsity.Analysis;

/// <summary>
/// Poisson(λ) in natural-log probabilities: pmf by Loader's (2000) saddle-point form, exact tails by the
/// term-ratio method. Used for the Poisson approximation of the overlap null (docs/statistics.md#approximations).
/// </summary>
public static class Poisson
{
    /// <summary>ln P(Y = x) for Y ~ Poisson(mean).</summary>
    /// <param name="mean">λ &gt; 0.</param>
    /// <param name="x">A count ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">λ is not positive and finite, or x &lt; 0.</exception>
    public static double LogPmf(double mean, long x)
    {
        var law = Create(mean, x, nameof(x));
        return law.LogPmf(x);
    }

    /// <summary>ln P(Y ≥ atLeast), exact.</summary>
    /// <param name="mean">λ &gt; 0.</param>
    /// <param name="atLeast">A count ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">λ is not positive and finite, or atLeast &lt; 0.</exception>
    public static double LogSurvival(double mean, long atLeast)
    {
        var law = Create(mean, atLeast, nameof(atLeast));
        return DiscreteTail.LogSurvival(law, atLeast);
    }

    /// <summary>ln P(Y ≤ atMost), exact.</summary>
    /// <param name="mean">λ &gt; 0.</param>
    /// <param name="atMost">A count ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">λ is not positive and finite, or atMost &lt; 0.</exception>
    public static double LogCdf(double mean, long atMost)
    {
        var law = Create(mean, atMost, nameof(atMost));
        return DiscreteTail.LogCdf(law, atMost);
    }

    private static Law Create(double mean, long x, string paramName)
    {
        if (!(mean > 0) || double.IsPositiveInfinity(mean))
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean, "The Poisson mean must be positive and finite.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(x, paramName);
        return new Law(mean);
    }

    private readonly struct Law(double mean) : ILogConcaveLaw
    {
        public long Lo => 0;

        public long Hi => long.MaxValue;

        public long Mode => (long)Math.Floor(mean);

        public double LogPmf(long x) => SpecialFunctions.LogPoissonPmf(x, mean);

        public double Up(long x) => mean / (x + 1.0);

        public double Down(long x) => x / mean;
    }
}
