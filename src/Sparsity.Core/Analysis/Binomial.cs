namespace Sparsity.Analysis;

/// <summary>
/// Binomial(trials, p) in natural-log probabilities: pmf by Loader's (2000) saddle-point form, exact tails by
/// the term-ratio method. Used for the binomial approximation of the overlap null and for keyed-signature
/// false-positive rates (docs/statistics.md#false-positives-of-a-signature).
/// </summary>
public static class Binomial
{
    /// <summary>ln P(Y = x) for Y ~ Binomial(trials, p).</summary>
    /// <param name="trials">Number of trials m ≥ 0.</param>
    /// <param name="p">Success probability in [0, 1].</param>
    /// <param name="x">Successes, 0 ≤ x ≤ trials.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static double LogPmf(long trials, double p, long x)
    {
        var law = Create(trials, p, x, nameof(x));
        return law.LogPmf(x);
    }

    /// <summary>ln P(Y ≥ atLeast), exact.</summary>
    /// <param name="trials">Number of trials m ≥ 0.</param>
    /// <param name="p">Success probability in [0, 1].</param>
    /// <param name="atLeast">Threshold, 0 ≤ atLeast ≤ trials.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static double LogSurvival(long trials, double p, long atLeast)
    {
        var law = Create(trials, p, atLeast, nameof(atLeast));
        return law.Degenerate ? (atLeast <= law.Lo ? 0.0 : double.NegativeInfinity) : DiscreteTail.LogSurvival(law, atLeast);
    }

    /// <summary>ln P(Y ≤ atMost), exact.</summary>
    /// <param name="trials">Number of trials m ≥ 0.</param>
    /// <param name="p">Success probability in [0, 1].</param>
    /// <param name="atMost">Threshold, 0 ≤ atMost ≤ trials.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static double LogCdf(long trials, double p, long atMost)
    {
        var law = Create(trials, p, atMost, nameof(atMost));
        return law.Degenerate ? (atMost >= law.Lo ? 0.0 : double.NegativeInfinity) : DiscreteTail.LogCdf(law, atMost);
    }

    private static Law Create(long trials, double p, long x, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trials);
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "The success probability must lie in [0, 1].");
        }

        if (x < 0 || x > trials)
        {
            throw new ArgumentOutOfRangeException(paramName, x, $"The count must lie in [0, trials = {trials}].");
        }

        return new Law(trials, p);
    }

    private readonly struct Law : ILogConcaveLaw
    {
        private readonly long _trials;
        private readonly double _p;
        private readonly double _q;
        private readonly double _odds;
        private readonly double _residual;

        public Law(long trials, double p)
        {
            _trials = trials;
            _p = p;
            _q = 1.0 - p;
            _odds = p / _q;
            // 1 − p − q, exact (Sterbenz); the saddle-point pmf carries m (1 − p − q), removed below.
            _residual = p <= 0.5 ? (1.0 - _q) - p : 0.0;
            Degenerate = p == 0 || p == 1 || trials == 0;
            Lo = p == 1 ? trials : 0;
            Hi = p == 0 ? 0 : trials;
            Mode = Math.Min(trials, (long)Math.Floor((trials + 1) * p));
        }

        public bool Degenerate { get; }

        public long Lo { get; }

        public long Hi { get; }

        public long Mode { get; }

        public double LogPmf(long x)
        {
            if (Degenerate)
            {
                return x == Lo ? 0.0 : double.NegativeInfinity;
            }

            return SpecialFunctions.LogBinomialPmf(x, _trials, _p, _q) - (_trials * _residual);
        }

        public double Up(long x) => (_trials - x) / (x + 1.0) * _odds;

        public double Down(long x) => x / (_trials - x + 1.0) / _odds;
    }
}
