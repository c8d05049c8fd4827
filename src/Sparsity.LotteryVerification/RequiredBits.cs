using Sparsity.Analysis;

namespace Sparsity.LotteryVerification;

/// <summary>
/// How many signature bits a claim needs (docs/statistics.md#required-bits): a claim is made when at least
/// <c>T = ⌈(1 − τ) m⌉</c> of <c>m</c> bits match; under the null each bit matches with probability π₀
/// independently, so the false-positive rate is <c>P(Bin(m, π₀) ≥ T)</c>. With W places tested the per-test
/// level is Šidák's <c>1 − (1 − α)^{1/W}</c>.
/// </summary>
public static class RequiredBits
{
    /// <summary>Matches needed out of <paramref name="bits"/> at a tolerated bit-error rate τ: ⌈(1 − τ) m⌉.</summary>
    /// <param name="bits">Number of bits m ≥ 1.</param>
    /// <param name="toleratedBitErrorRate">τ in [0, 1).</param>
    public static int Threshold(int bits, double toleratedBitErrorRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        ValidateTau(toleratedBitErrorRate);
        // The small slack keeps products such as 0.95 · 20 = 19.000000000000004 from rounding up.
        return (int)Math.Ceiling(((1 - toleratedBitErrorRate) * bits) - 1e-9);
    }

    /// <summary>
    /// The smallest m with <c>P(Bin(m, π₀) ≥ ⌈(1 − τ) m⌉) ≤ α'</c> (exact binomial tail, Core's <see cref="Binomial"/>).
    /// Single test, α = 1e-9, π₀ = ½: τ = 0 → 30, 0.05 → 36, 0.10 → 48, 0.20 → 93, 0.25 → 138, 0.30 → 216.
    /// </summary>
    /// <param name="falsePositiveRate">Family-wise false-positive rate α in (0, 1).</param>
    /// <param name="toleratedBitErrorRate">τ in [0, 1 − π₀).</param>
    /// <param name="nullMatchProbability">π₀ in (0, 1): ½ for whitened bits, the suspect's density for forced-on bits.</param>
    /// <param name="tests">Places tested W ≥ 1.</param>
    /// <param name="maxBits">Search limit.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range (the message says which).</exception>
    /// <exception cref="InvalidOperationException">No m up to <paramref name="maxBits"/> suffices.</exception>
    public static int Exact(double falsePositiveRate, double toleratedBitErrorRate, double nullMatchProbability = 0.5, long tests = 1, int maxBits = 100_000)
    {
        double logAlpha = Math.Log(Validate(falsePositiveRate, toleratedBitErrorRate, nullMatchProbability, tests));
        for (int m = 1; m <= maxBits; m++)
        {
            int t = Threshold(m, toleratedBitErrorRate);
            if (Binomial.LogSurvival(m, nullMatchProbability, t) <= logAlpha)
            {
                return m;
            }
        }

        throw new InvalidOperationException(
            $"No signature of at most {maxBits} bits reaches a false-positive rate of {falsePositiveRate:G3} at a tolerated bit-error rate of {toleratedBitErrorRate:G3}.");
    }

    /// <summary>
    /// The sufficient Chernoff count <c>m = ⌈ln(W/α) / D(1 − τ ‖ π₀)⌉</c> (docs/statistics.md#required-bits); 0–15 % above <see cref="Exact"/>.
    /// </summary>
    /// <param name="falsePositiveRate">α in (0, 1).</param>
    /// <param name="toleratedBitErrorRate">τ in [0, 1 − π₀).</param>
    /// <param name="nullMatchProbability">π₀ in (0, 1).</param>
    /// <param name="tests">W ≥ 1.</param>
    public static int ChernoffBound(double falsePositiveRate, double toleratedBitErrorRate, double nullMatchProbability = 0.5, long tests = 1)
    {
        Validate(falsePositiveRate, toleratedBitErrorRate, nullMatchProbability, tests);
        double d = SpecialFunctions.BernoulliKl(1 - toleratedBitErrorRate, nullMatchProbability);
        return (int)Math.Ceiling((Math.Log(tests) - Math.Log(falsePositiveRate)) / d);
    }

    private static double Validate(double alpha, double tau, double pi0, long tests)
    {
        if (!(alpha > 0 && alpha < 1))
        {
            throw new ArgumentOutOfRangeException("falsePositiveRate", alpha, "The false-positive rate must lie in (0, 1), for example 1e-9.");
        }

        if (!(pi0 > 0 && pi0 < 1))
        {
            throw new ArgumentOutOfRangeException("nullMatchProbability", pi0, "The null match probability must lie in (0, 1).");
        }

        ValidateTau(tau);
        if (1 - tau <= pi0)
        {
            throw new ArgumentOutOfRangeException(
                "toleratedBitErrorRate", tau, $"The tolerated bit-error rate must be below 1 − π₀ = {1 - pi0:G3}, or chance alone would pass.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(tests, 1L);
        return MultipleTesting.SidakPerTestLevel(alpha, tests);
    }

    private static void ValidateTau(double tau)
    {
        if (!(tau >= 0 && tau < 1))
        {
            throw new ArgumentOutOfRangeException("toleratedBitErrorRate", tau, "The tolerated bit-error rate must lie in [0, 1).");
        }
    }
}
