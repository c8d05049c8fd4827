using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// Exact top-k selection with deterministic ties, on the scores' device: the k largest scores are kept;
/// among scores equal to the k-th largest, the lowest flat indices are kept.
/// </summary>
internal static class TopKSelection
{
    /// <summary>Boolean mask (same shape as <paramref name="scores"/>) keeping exactly k elements.</summary>
    /// <remarks>
    /// Contiguous float32/float64 CPU scores take <see cref="CpuTopKSelection"/> (two passes over the
    /// scores' memory); others cost one <c>kthvalue</c> (linear-time selection) plus a few elementwise passes; no sort.
    /// Caller owns the result; temporaries are disposed.
    /// </remarks>
    public static Tensor KeepTopK(Tensor scores, long k) => KeepTopK(scores, k, useCpuKernel: true);

    /// <summary>As <see cref="KeepTopK(Tensor, long)"/>; <paramref name="useCpuKernel"/> false forces the <c>kthvalue</c> path (the reference tests compare against).</summary>
    internal static Tensor KeepTopK(Tensor scores, long k, bool useCpuKernel)
    {
        long n = scores.numel();
        if (k < 0 || k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [0, {n}].");
        }

        using var scope = NewDisposeScope();
        Tensor result;
        if (k == 0)
        {
            result = zeros_like(scores, ScalarType.Bool);
        }
        else if (k == n)
        {
            result = ones_like(scores, ScalarType.Bool);
        }
        else if (useCpuKernel && CpuTopKSelection.Supports([scores]))
        {
            result = CpuTopKSelection.KeepTopK([scores], k, out _)[0];
        }
        else
        {
            var flat = scores.detach().flatten();
            var threshold = KthLargest(flat, k);
            var above = flat.gt(threshold);
            var equal = flat.eq(threshold);
            var needed = k - above.count_nonzero().item<long>();
            // Keep the first `needed` ties in flat order (nonzero returns ascending indices).
            var tieIndices = equal.nonzero().flatten().narrow(0, 0, needed);
            // The fill value is held for the whole call: an implicit Scalar temporary can be finalized by the GC
            // while the native call still reads it (seen as a libtorch "Expected false to be true" from toBool).
            using var keep = (TorchSharp.Scalar)true;
            result = above.index_fill(0, tieIndices, keep).reshape(scores.shape);
        }

        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Below this many elements a plain <c>kthvalue</c> is cheaper than the sampled pre-selection.</summary>
    internal const long PreselectionThreshold = 1L << 20;

    private const long SampleSize = 1L << 16;

    /// <summary>
    /// The k-th largest value of <paramref name="flat"/> (1 ≤ k &lt; n), as a 0-d tensor on its device.
    /// </summary>
    /// <remarks>
    /// libtorch's CPU <c>kthvalue</c> is a single-threaded selection that costs about a hundred passes over
    /// the data. Large inputs are therefore narrowed first: an evenly strided sample of 65,536 values gives
    /// two bracketing values whose ranks in the sample lie 6 binomial standard deviations (plus 2) below and
    /// above the rank of the k-th largest; one pass counts the values above the upper bracket exactly, and
    /// <c>kthvalue</c> runs only over the values between the brackets (about 1 % of the input). When the
    /// exact count shows that the k-th largest lies outside the brackets (an adversarial order, many ties),
    /// the whole input is selected instead, so the result is always exact.
    /// </remarks>
    internal static Tensor KthLargest(Tensor flat, long k)
    {
        long n = flat.numel();
        // k-th largest = (n − k + 1)-th smallest (1-based, as kthvalue counts).
        if (n < PreselectionThreshold)
        {
            return flat.kthvalue(n - k + 1, 0).values;
        }

        long stride = n / SampleSize;
        var sample = flat.slice(0, 0, n, stride).contiguous();
        long m = sample.numel();
        double q = (double)(n - k) / n;                      // fraction of values below the k-th largest
        double margin = (6.0 * Math.Sqrt(m * q * (1.0 - q))) + 2.0;
        long lowRank = (long)Math.Floor((q * m) - margin);    // 1-based ranks in the sample
        long highRank = (long)Math.Ceiling((q * m) + margin);
        var lower = lowRank >= 1 ? sample.kthvalue(lowRank, 0).values : null;
        var upper = highRank <= m ? sample.kthvalue(highRank, 0).values : null;

        long above = upper is null ? 0 : flat.gt(upper).count_nonzero().item<long>();
        var band = lower is null ? ones_like(flat, ScalarType.Bool) : flat.ge(lower);
        if (upper is not null)
        {
            band = band.logical_and_(flat.le(upper));
        }

        var candidates = flat.index_select(0, band.nonzero().flatten()); // 10× faster than masked_select on CPU
        long needed = k - above;
        long count = candidates.numel();
        if (needed < 1 || needed > count)
        {
            return flat.kthvalue(n - k + 1, 0).values;
        }

        return candidates.kthvalue(count - needed + 1, 0).values;
    }
}
