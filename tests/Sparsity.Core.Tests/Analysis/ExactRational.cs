using System.Numerics;

namespace Sparsity.Tests.Analysis;

/// <summary>
/// Independent reference: hypergeometric and binomial probabilities as exact rationals of BigInteger
/// binomial coefficients; ln of a rational via BigInteger.Log (double accuracy on the logarithm).
/// </summary>
public static class ExactRational
{
    public static BigInteger Choose(long n, long k)
    {
        if (k < 0 || k > n)
        {
            return BigInteger.Zero;
        }

        k = Math.Min(k, n - k);
        BigInteger r = BigInteger.One;
        for (long i = 1; i <= k; i++)
        {
            r = r * (n - k + i) / i;
        }

        return r;
    }

    /// <summary>ln [Σ_{x ∈ xs} C(k1, x) C(n − k1, k2 − x) / C(n, k2)].</summary>
    public static double LogHypergeometric(long n, long k1, long k2, IEnumerable<long> xs)
    {
        BigInteger num = BigInteger.Zero;
        foreach (var x in xs)
        {
            num += Choose(k1, x) * Choose(n - k1, k2 - x);
        }

        return BigInteger.Log(num) - BigInteger.Log(Choose(n, k2));
    }

    public static IEnumerable<long> Range(long from, long to) =>
        from > to ? [] : Enumerable.Range(0, (int)(to - from + 1)).Select(i => from + i);
}
