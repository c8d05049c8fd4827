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
    /// Cost: one <c>kthvalue</c> (linear-time selection) plus a few elementwise passes; no sort.
    /// Caller owns the result; temporaries are disposed.
    /// </remarks>
    public static Tensor KeepTopK(Tensor scores, long k)
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
        else
        {
            var flat = scores.detach().flatten();
            var threshold = KthLargest(flat, k);
            var above = flat.gt(threshold);
            var equal = flat.eq(threshold);
            var needed = k - above.count_nonzero().item<long>();
            // Keep the first `needed` ties in flat order (nonzero returns ascending indices).
            var tieIndices = equal.nonzero().flatten().narrow(0, 0, needed);
            result = above.index_fill(0, tieIndices, true).reshape(scores.shape);
        }

        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Below this many elements a plain <c>kthvalue</c> is cheaper than the histogram pre-selection.</summary>
    internal const long HistogramThreshold = 1L << 20;

    private const int Bins = 4096;

    /// <summary>
    /// The k-th largest value of <paramref name="flat"/> (1 ≤ k &lt; n), as a 0-d tensor on its device.
    /// Large inputs are narrowed first: a histogram over [min, max] locates the bin that holds the k-th
    /// largest value, and <c>kthvalue</c> runs only over the values of that bin (plus one bin of slack on
    /// each side, so rounding at bin edges cannot lose it). The count above the candidate interval is
    /// checked exactly; when the check fails (for example non-finite values) the whole input is selected.
    /// </summary>
    internal static Tensor KthLargest(Tensor flat, long k)
    {
        long n = flat.numel();
        // k-th largest = (n − k + 1)-th smallest (1-based, as kthvalue counts).
        if (n < HistogramThreshold)
        {
            return flat.kthvalue(n - k + 1, 0).values;
        }

        var (min, max) = flat.aminmax();
        double lo = min.to(ScalarType.Float64).item<double>();
        double hi = max.to(ScalarType.Float64).item<double>();
        if (!double.IsFinite(lo) || !double.IsFinite(hi) || lo == hi)
        {
            return flat.kthvalue(n - k + 1, 0).values;
        }

        // Counts per bin, highest bin first; find the bin where the running count reaches k.
        // (TorchSharp's histc takes integer bounds, so the values are mapped onto [0, Bins] first.)
        double width = (hi - lo) / Bins;
        var scaled = flat.mul(1.0 / width).sub_(lo / width);
        var counts = scaled.histc(Bins, 0, Bins).to(ScalarType.Float64).cpu().data<double>().ToArray();
        long running = 0;
        int bin = Bins - 1;
        for (; bin > 0; bin--)
        {
            running += (long)counts[bin];
            if (running >= k)
            {
                break;
            }
        }

        double lower = bin <= 1 ? double.NegativeInfinity : lo + ((bin - 1) * width);
        double upper = bin >= Bins - 2 ? double.PositiveInfinity : lo + ((bin + 2) * width);
        long above = double.IsPositiveInfinity(upper) ? 0 : flat.gt(upper).count_nonzero().item<long>();
        var candidates = flat.masked_select(flat.ge(lower).logical_and_(flat.le(upper)));
        long needed = k - above;
        long m = candidates.numel();
        if (needed < 1 || needed > m)
        {
            return flat.kthvalue(n - k + 1, 0).values;
        }

        return candidates.kthvalue(m - needed + 1, 0).values;
    }
}
