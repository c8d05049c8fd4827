using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// The per-step mask update without a single read back to the host, for accelerators (a read waits for the
/// device's queue; docs/search.md, "Sync-free update"). It covers the all-or-nothing restriction policies — no
/// restriction, and the official short restriction (Zhang et al., Lottery Jackpots, Sec. 3.2), which carries out
/// every proposed swap unless the k-th and (k+1)-th largest scores tie — and uses only operations whose output
/// size is fixed: the exact top-k is one <c>kthvalue</c>, the ties at the threshold are admitted in flat-index
/// order through a cumulative sum (the same rule as <see cref="LayerSelection.ExactTopK"/>), the policy's
/// decision is a <c>where</c>, and the flip counts accumulate in device tensors that the searcher reads once per
/// epoch. No <c>nonzero</c>, <c>masked_select</c> or <c>item</c>.
/// </summary>
internal static class SyncFreeMaskUpdate
{
    /// <summary>Whether <paramref name="policy"/> accepts either every proposed pair or none (then the update can be a <c>where</c>).</summary>
    /// <param name="policy">The search's restriction policy.</param>
    /// <param name="refuseOnTie">Whether it refuses a layer's swaps when a tie straddles the top-k boundary.</param>
    public static bool IsAllOrNothing(IRestrictionPolicy policy, out bool refuseOnTie)
    {
        (var all, refuseOnTie) = policy switch
        {
            NoRestriction => (true, false),
            ShortRestriction s when ReferenceEquals(s.Schedule, RestrictionSchedule.Official) => (true, true),
            _ => (false, false),
        };
        return all;
    }

    /// <summary>
    /// Replaces the layer's mask by the top-<paramref name="kept"/> of <paramref name="flatScores"/>, or keeps it
    /// when <paramref name="refuseOnTie"/> and the boundary ties; adds the flips carried out to
    /// <paramref name="accepted"/> and those refused to <paramref name="refused"/> (int64 0-d tensors on the
    /// scores' device). Temporaries belong to the caller's dispose scope.
    /// </summary>
    public static void Apply(MaskedModel masked, string name, Tensor flatScores, long kept, bool refuseOnTie, Tensor accepted, Tensor refused)
    {
        var mask = masked.Mask(name);
        var (top, tie) = TopK(flatScores, kept);
        var flips = top.logical_xor(mask.view(-1)).sum();
        var refuse = refuseOnTie ? tie : zeros_like(tie);
        masked.SetMask(name, where(refuse, mask.view(-1), top).view(mask.shape));
        using var zero = 0.ToScalar(); // explicit Scalars, disposed here rather than by the finalizer (as every one below)
        using var one = 1.ToScalar();
        accepted.add_(flips.masked_fill(refuse, zero), one);
        refused.add_(flips.masked_fill(refuse.logical_not(), zero), one);
    }

    /// <summary>
    /// The exact top-k of a 1-D score tensor as a bool mask (ties at the threshold admitted lowest flat index first),
    /// and a 0-d bool tensor telling whether the k-th and (k+1)-th largest scores are equal.
    /// </summary>
    public static (Tensor Mask, Tensor BoundaryTie) TopK(Tensor flat, long k)
    {
        long n = flat.numel(), p = n - k;
        if (k <= 0 || k >= n)
        {
            var all = k <= 0 ? zeros_like(flat, ScalarType.Bool) : ones_like(flat, ScalarType.Bool);
            return (all, zeros(Array.Empty<long>(), ScalarType.Bool, flat.device));
        }

        var t = flat.kthvalue(p, 0).values; // the p-th smallest = the (k+1)-th largest
        var above = flat.gt(t);
        var atThreshold = flat.eq(t);
        using var kScalar = k.ToScalar();
        using var pScalar = p.ToScalar();
        using var one = 1.ToScalar();
        var missing = above.sum().neg().add(kScalar, one); // k − |{s > t}| ≥ 1 tied scores still to admit
        var admitted = atThreshold.logical_and(atThreshold.cumsum(0).le(missing));
        var boundaryTie = flat.le(t).sum().gt(pScalar); // the (p+1)-th smallest equals t too
        return (above.logical_or(admitted), boundaryTie);
    }
}
