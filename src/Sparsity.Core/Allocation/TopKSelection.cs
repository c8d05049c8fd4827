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
            // k-th largest = (n − k + 1)-th smallest (1-based, as kthvalue counts).
            var threshold = flat.kthvalue(n - k + 1, 0).values;
            var above = flat.gt(threshold);
            var equal = flat.eq(threshold);
            var needed = k - above.count_nonzero().item<long>();
            // Keep the first `needed` ties in flat order (nonzero returns ascending indices).
            var tieIndices = equal.nonzero().flatten().narrow(0, 0, needed);
            result = above.index_fill(0, tieIndices, true).reshape(scores.shape);
        }

        return result.MoveToOuterDisposeScope();
    }
}
