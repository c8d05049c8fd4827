namespace Sparsity.Analysis;

/// <summary>
/// Special functions the .NET base library lacks or computes too naively for tail probabilities at
/// model scale (10⁸–10¹⁰ weights): log-gamma, Stirling's error term and the saddle-point deviance of
/// Loader (2000), log1p/expm1 that stay exact near 0, log(1 − eᵃ), and the log of the normal upper tail.
/// </summary>
/// <remarks>
/// .NET's <c>double.LogP1</c> and <c>double.ExpM1</c> evaluate <c>log(1 + x)</c> and <c>exp(x) − 1</c>
/// literally and lose every digit for |x| below about 1e-16 (a test pins this); use <see cref="Log1p"/> and
/// <see cref="Expm1"/> instead.
/// </remarks>
public static class SpecialFunctions
{
    /// <summary>ln √(2π).</summary>
    public const double LogSqrtTwoPi = 0.91893853320467274178032973640562;

    /// <summary>ln 10, to turn natural-log probabilities into decades.</summary>
    public const double Ln10 = 2.30258509299404568401799145468437;

    // Stirling's error δ(n) = ln n! − (n + ½) ln n + n − ln √(2π) for n = 1…15, computed with
    // 50-digit mpmath (tests/fixtures/analysis/make_fixtures.py); the asymptotic series takes over above.
    private static readonly double[] StirlingErrorTable =
    [
        double.NaN,
        0.08106146679532725821967026,
        0.04134069595540929409382208,
        0.02767792568499833914878929,
        0.02079067210376509311152277,
        0.01664469118982119216319487,
        0.01387612882307074799874573,
        0.01189670994589177009505572,
        0.01041126526197209649747857,
        0.009255462182712732917728637,
        0.008330563433362871256469319,
        0.007573675487951840794972024,
        0.006942840107209529865664153,
        0.006408994188004207068439631,
        0.005951370112758847735624416,
        0.00555473355196280137103869,
    ];

    /// <summary>
    /// Stirling's error term δ(n) = ln n! − [(n + ½) ln n − n + ln √(2π)] (Loader 2000, "stirlerr"):
    /// exact table for n ≤ 15, the Stirling series 1/(12n) − 1/(360n³) + 1/(1260n⁵) − 1/(1680n⁷) + 1/(1188n⁹)
    /// above (truncation error below 2e-16 at n = 16).
    /// </summary>
    /// <param name="n">A positive count.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> &lt; 1.</exception>
    public static double StirlingError(long n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1L);
        return n < StirlingErrorTable.Length ? StirlingErrorTable[n] : StirlingSeries(n);
    }

    /// <summary>
    /// ln Γ(x) for real x &gt; 0: Stirling's series with seven correction terms for x ≥ 16, the recurrence
    /// Γ(x) = Γ(x + m) / [x (x + 1) ⋯ (x + m − 1)] below. Absolute error a few 1e-15 for x &lt; 16, relative
    /// error a few ulp above.
    /// </summary>
    /// <param name="x">A positive real number.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="x"/> is not positive and finite.</exception>
    public static double LogGamma(double x)
    {
        if (!(x > 0) || double.IsPositiveInfinity(x))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "LogGamma needs a positive finite argument.");
        }

        if (x >= 16)
        {
            return ((x - 0.5) * Math.Log(x)) - x + LogSqrtTwoPi + StirlingSeries(x);
        }

        var product = 1.0;
        var shifted = x;
        while (shifted < 16)
        {
            product *= shifted;
            shifted += 1;
        }

        return ((shifted - 0.5) * Math.Log(shifted)) - shifted + LogSqrtTwoPi + StirlingSeries(shifted) - Math.Log(product);
    }

    /// <summary>ln n! = ln Γ(n + 1), via <see cref="StirlingError"/> (no subtraction of huge values inside).</summary>
    /// <param name="n">A non-negative count.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> &lt; 0.</exception>
    public static double LogFactorial(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        return n <= 1 ? 0.0 : ((n + 0.5) * Math.Log(n)) - n + LogSqrtTwoPi + StirlingError(n);
    }

    /// <summary>
    /// ln C(n, k) in the saddle-point form of Loader (2000):
    /// δ(n) − δ(k) − δ(n − k) − ½ ln(2π k (n − k)/n) + k ln(n/k) + (n − k) log1p(k/(n − k)), where every term is
    /// computed without cancellation. The absolute error is a few ulp of the result itself (about 1e-6 at
    /// C(1e10, 5e9) ≈ e^6.9e9); probabilities should combine deviances instead (see <see cref="LogBinomialPmf"/>).
    /// </summary>
    /// <param name="n">Population size, ≥ 0.</param>
    /// <param name="k">Subset size, 0 ≤ k ≤ n.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or k &gt; n.</exception>
    public static double LogBinomialCoefficient(long n, long k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, n);
        if (k == 0 || k == n)
        {
            return 0.0;
        }

        long m = n - k;
        double entropy = (k * Math.Log((double)n / k)) + (m * Log1p((double)k / m));
        return StirlingError(n) - StirlingError(k) - StirlingError(m)
               - (0.5 * Math.Log(2 * Math.PI * ((double)k / n) * m)) + entropy;
    }

    /// <summary>
    /// The saddle-point deviance bd0(x, μ) = x ln(x/μ) + μ − x ≥ 0 of Loader (2000), by a series in
    /// v = (x − μ)/(x + μ) when |x − μ| &lt; 0.1 (x + μ), so that it stays exact when x ≈ μ ≫ 1.
    /// </summary>
    /// <param name="x">An observed count (≥ 0).</param>
    /// <param name="mean">The expectation μ &gt; 0.</param>
    public static double Deviance(double x, double mean)
    {
        if (x == 0)
        {
            return mean;
        }

        double diff = x - mean;
        if (Math.Abs(diff) < 0.1 * (x + mean))
        {
            double v = diff / (x + mean);
            double s = diff * v;
            double term = 2 * x * v;
            double v2 = v * v;
            for (int j = 1; j < 1000; j++)
            {
                term *= v2;
                double next = s + (term / ((2 * j) + 1));
                if (next == s)
                {
                    return next;
                }

                s = next;
            }

            return s;
        }

        return (x * Math.Log(x / mean)) + mean - x;
    }

    /// <summary>
    /// ln [C(trials, x) pˣ qᵗʳⁱᵃˡˢ⁻ˣ] by Loader's (2000) saddle-point formula ("dbinom_raw"):
    /// δ(m) − δ(x) − δ(m − x) − bd0(x, m p) − bd0(m − x, m q) − ½ ln(2π x (1 − x/m)).
    /// </summary>
    /// <param name="x">Successes, 0 ≤ x ≤ trials.</param>
    /// <param name="trials">Number of trials m ≥ 0.</param>
    /// <param name="p">Success probability.</param>
    /// <param name="q">1 − p, passed separately so that it can be exact when p is tiny.</param>
    public static double LogBinomialPmf(long x, long trials, double p, double q)
    {
        // The edges use the same deviance form as the interior (−bd0(0, mp) = −mp), so that an error in
        // p + q = 1 contributes the same m (1 − p − q) everywhere and cancels in ratios of binomial terms.
        if (x == 0)
        {
            return trials == 0 ? 0.0 : -(trials * p) - Deviance(trials, trials * q);
        }

        if (x == trials)
        {
            return -Deviance(trials, trials * p) - (trials * q);
        }

        if (p == 0 || q == 0)
        {
            return double.NegativeInfinity;
        }

        long m = trials - x;
        double lc = StirlingError(trials) - StirlingError(x) - StirlingError(m)
                    - Deviance(x, trials * p) - Deviance(m, trials * q);
        double lf = Math.Log(2 * Math.PI * x * ((double)m / trials));
        return lc - (0.5 * lf);
    }

    /// <summary>ln [e^{−λ} λˣ / x!] by Loader's (2000) saddle-point formula: −δ(x) − bd0(x, λ) − ½ ln(2πx).</summary>
    /// <param name="x">A count ≥ 0.</param>
    /// <param name="mean">The Poisson mean λ &gt; 0.</param>
    public static double LogPoissonPmf(long x, double mean) =>
        x == 0 ? -mean : -StirlingError(x) - Deviance(x, mean) - (0.5 * Math.Log(2 * Math.PI * x));

    /// <summary>ln(1 + x), exact to a few ulp for every x &gt; −1 (Goldberg's correction of the rounded 1 + x).</summary>
    /// <param name="x">Argument &gt; −1 (−1 gives −∞).</param>
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        if (u == 1.0)
        {
            return x;
        }

        return double.IsPositiveInfinity(u) ? u : Math.Log(u) * (x / (u - 1.0));
    }

    /// <summary>eˣ − 1, exact to a few ulp for every x (Kahan's correction of the rounded eˣ).</summary>
    /// <param name="x">Argument.</param>
    public static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1.0)
        {
            return x;
        }

        double um1 = u - 1.0;
        if (um1 == -1.0 || double.IsPositiveInfinity(u))
        {
            return um1;
        }

        return um1 * (x / Math.Log(u));
    }

    /// <summary>
    /// ln(1 − eᵃ) for a ≤ 0, accurate at both ends (Mächler 2012): ln(−expm1(a)) for a &gt; −ln 2,
    /// log1p(−eᵃ) below. Used for the complement of a log probability.
    /// </summary>
    /// <param name="a">A log probability, ≤ 0 (0 gives −∞).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="a"/> &gt; 0.</exception>
    public static double Log1mExp(double a)
    {
        if (a > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(a), a, "Log1mExp needs a log probability (≤ 0).");
        }

        return a > -0.69314718055994530942 ? Math.Log(-Expm1(a)) : Log1p(-Math.Exp(a));
    }

    /// <summary>ln(eᵃ + eᵇ) without overflow or underflow.</summary>
    /// <param name="a">First log value.</param>
    /// <param name="b">Second log value.</param>
    public static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
        {
            return b;
        }

        if (double.IsNegativeInfinity(b))
        {
            return a;
        }

        double max = Math.Max(a, b);
        return max + Log1p(Math.Exp(-Math.Abs(a - b)));
    }

    /// <summary>
    /// ln Φ̄(z) = ln P(Z ≥ z) for a standard normal Z, accurate far into both tails: for z ≥ 3 Laplace's
    /// continued fraction for the Mills ratio R(z) = Φ̄(z)/φ(z) = 1/(z + 1/(z + 2/(z + 3/(z + …)))), so
    /// ln Φ̄(z) = −z²/2 − ln √(2π) + ln R(z) never underflows; for |z| &lt; 3 the positive-term series of erf;
    /// for z ≤ −3 the complement log1p(−Φ̄(−z)).
    /// </summary>
    /// <param name="z">A standard score.</param>
    public static double LogNormalSurvival(double z)
    {
        if (double.IsNaN(z))
        {
            return double.NaN;
        }

        if (z >= 3)
        {
            return (-0.5 * z * z) - LogSqrtTwoPi + Math.Log(MillsRatio(z));
        }

        if (z <= -3)
        {
            return Log1p(-Math.Exp(LogNormalSurvival(-z)));
        }

        // Φ̄(z) = ½ erfc(z/√2); erf(t) = (2/√π) e^{−t²} Σ 2ⁿ t^{2n+1} / (1·3·⋯·(2n+1)) (all terms positive).
        double t = Math.Abs(z) / Math.Sqrt(2);
        double term = t;
        double sum = t;
        for (int n = 1; n < 500; n++)
        {
            term *= 2 * t * t / ((2 * n) + 1);
            double next = sum + term;
            if (next == sum)
            {
                break;
            }

            sum = next;
        }

        double erf = 2 / Math.Sqrt(Math.PI) * Math.Exp(-t * t) * sum;
        return z >= 0 ? Math.Log(0.5 * (1 - erf)) : Log1p(erf) - Math.Log(2);
    }

    /// <summary>Kullback–Leibler divergence D(a‖b) of Bernoulli laws, with 0 ln 0 = 0.</summary>
    /// <param name="a">First success probability, in [0, 1].</param>
    /// <param name="b">Second success probability, in (0, 1).</param>
    public static double BernoulliKl(double a, double b)
    {
        double r = 0;
        if (a > 0)
        {
            r += a * Math.Log(a / b);
        }

        if (a < 1)
        {
            r += (1 - a) * Math.Log((1 - a) / (1 - b));
        }

        return r;
    }

    private static double StirlingSeries(double n)
    {
        const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
        const double s5 = 691.0 / 360360, s6 = 1.0 / 156;
        double nn = n * n;
        return (s0 - ((s1 - ((s2 - ((s3 - ((s4 - ((s5 - (s6 / nn)) / nn)) / nn)) / nn)) / nn)) / nn)) / n;
    }

    // Lentz's evaluation of 1/(z + 1/(z + 2/(z + 3/(z + …)))).
    private static double MillsRatio(double z)
    {
        const double tiny = 1e-300;
        double f = z;
        double c = z;
        double d = 0;
        for (int k = 1; k < 5000; k++)
        {
            d = z + (k * d);
            d = d == 0 ? tiny : d;
            c = z + (k / c);
            c = c == 0 ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        return 1 / f;
    }
}
