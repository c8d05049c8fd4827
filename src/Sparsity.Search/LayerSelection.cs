using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>The exact top-k of a layer's scores and whether a tie straddles the boundary.</summary>
/// <param name="Mask">Flat bool mask keeping exactly k scores (ties at the k-th score broken by lowest flat index).</param>
/// <param name="BoundaryTie">Whether the k-th and (k+1)-th largest scores are equal.</param>
/// <param name="Threshold">The p-th smallest score (p = n − k), a 0-d tensor; −∞ when p = 0.</param>
internal readonly record struct TopK(Tensor Mask, bool BoundaryTie, Tensor Threshold);

/// <summary>Exact per-layer top-k selection (one <c>kthvalue</c>, no sort): the reference the incremental tracker must equal.</summary>
internal static class LayerSelection
{
    /// <summary>
    /// Selects the k largest of <paramref name="scores"/> (any shape; the mask has the same shape). Tensors are
    /// created in the current dispose scope.
    /// </summary>
    public static TopK ExactTopK(Tensor scores, long k)
    {
        long n = scores.numel();
        if (k < 0 || k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [0, {n}].");
        }

        var flat = scores.detach().flatten();
        if (k == n)
        {
            return new TopK(ones_like(scores, ScalarType.Bool), false, tensor(float.NegativeInfinity, flat.dtype, flat.device));
        }

        if (k == 0)
        {
            return new TopK(zeros_like(scores, ScalarType.Bool), false, flat.max());
        }

        long p = n - k;
        var t = flat.kthvalue(p, 0).values;
        var above = flat.gt(t);
        long kept = HostReads.Item<long>(above.count_nonzero());
        if (kept == k)
        {
            return new TopK(above.reshape(scores.shape), false, t);
        }

        return new TopK(BreakTies(flat, above, t, k, kept).reshape(scores.shape), true, t);
    }

    /// <summary>Adds the first <c>k − kept</c> scores equal to <paramref name="t"/> (lowest flat index first) to <paramref name="above"/>.</summary>
    public static Tensor BreakTies(Tensor flat, Tensor above, Tensor t, long k, long kept)
    {
        var ties = flat.eq(t).nonzero().flatten().narrow(0, 0, k - kept);
        using var keep = true.ToScalar(); // disposed here, not left to the finalizer
        return above.index_fill(0, ties, keep);
    }
}

/// <summary>
/// Tracks one layer's selection threshold across optimiser steps so that the exact top-k usually costs one
/// comparison-and-count pass instead of a selection over every score.
/// </summary>
/// <remarks>
/// <para>Invariant used: if a value τ has exactly p = n − k scores ≤ τ, then {s &gt; τ} is exactly the top-k
/// set and no tie straddles the boundary (the p-th smallest is ≤ τ, the (p+1)-th &gt; τ). Each step first
/// counts scores ≤ τ_prev. When the count is p, the mask is <c>s &gt; τ_prev</c>. Otherwise the p-th and
/// (p+1)-th smallest scores lie on the side the count says, within a band of width δ next to τ_prev if the
/// count beyond the band allows it; only the band's scores are gathered and sorted. The band widens ×4 up
/// to three times, then an exact <c>kthvalue</c> over the layer is used. δ follows the threshold's recent
/// movement.</para>
/// <para>The result is always exactly <see cref="LayerSelection.ExactTopK"/>; the state only affects cost.</para>
/// </remarks>
internal sealed class ThresholdTracker : ILayerSelector
{
    private const int MaxWidenings = 3;
    private Tensor? _tau;
    private float? _tauValue; // host copy of _tau, read once when it is chosen
    private float? _pending;

    /// <summary>Explicit host reads on this thread so far (<see cref="HostReads"/>), for tests that count them.</summary>
    internal static long HostReadsSoFar => HostReads.Count;

    /// <summary>Creates a tracker for a layer of <paramref name="count"/> scores keeping <paramref name="kept"/>.</summary>
    public ThresholdTracker(long count, long kept)
    {
        if (kept < 1 || kept > count)
        {
            throw new ArgumentOutOfRangeException(nameof(kept), kept, $"kept must lie in [1, {count}].");
        }

        Count = count;
        Kept = kept;
    }

    /// <summary>Number of scores.</summary>
    public long Count { get; }

    /// <summary>Fixed kept count k.</summary>
    public long Kept { get; }

    /// <summary>Band half-width δ.</summary>
    public double Delta { get; private set; }

    /// <summary>The tracked threshold (0-d), or null before the first selection.</summary>
    public Tensor? Threshold => _tau;

    /// <summary>Steps answered by the count alone.</summary>
    public long CountHits { get; private set; }

    /// <summary>Steps answered from a band of candidates.</summary>
    public long BandHits { get; private set; }

    /// <summary>Steps that needed an exact selection over the layer.</summary>
    public long ExactSelections { get; private set; }

    /// <inheritdoc />
    public float? ThresholdValue => _tau is null ? _pending : _tauValue;

    /// <inheritdoc />
    public void Restore(float threshold, double delta)
    {
        _tau?.Dispose();
        _tau = null;
        _tauValue = null;
        _pending = threshold;
        Delta = delta;
    }

    /// <inheritdoc />
    public SwapProposal Propose(Tensor flatScores, Tensor flatMask)
    {
        var top = Select(flatScores);
        var index = top.Mask.logical_xor(flatMask).nonzero().flatten();
        var wasKept = flatMask.index_select(0, index);
        return new SwapProposal(index.masked_select(wasKept.logical_not()), index.masked_select(wasKept), top.BoundaryTie);
    }

    /// <summary>
    /// The exact top-k of <paramref name="flat"/> (1-D scores of this layer). The returned tensors belong to
    /// the current dispose scope.
    /// </summary>
    public TopK Select(Tensor flat)
    {
        long p = Count - Kept;
        if (p == 0)
        {
            CountHits++;
            return new TopK(ones_like(flat, ScalarType.Bool), false, tensor(float.NegativeInfinity, flat.dtype, flat.device));
        }

        if (_tau is null && _pending is { } pending)
        {
            _tau = tensor(pending, flat.dtype, flat.device).DetachFromDisposeScope();
            _tauValue = pending;
            _pending = null;
        }

        if (_tau is null)
        {
            return Exact(flat);
        }

        var tau = _tau;
        var le = flat.le(tau);
        long c = HostReads.Item<long>(le.count_nonzero());
        if (c == p)
        {
            CountHits++;
            return new TopK(le.logical_not(), false, tau.clone());
        }

        double delta = Delta > 0 ? Delta : Math.Max(1e-6, Math.Abs(_tauValue!.Value) * 1e-4);
        for (int attempt = 0; attempt <= MaxWidenings; attempt++, delta *= 4)
        {
            Tensor band;
            long baseCount;
            using var width = delta.ToScalar(); // explicit Scalars, disposed here rather than by the finalizer
            if (c > p)
            {
                // The p-th and (p+1)-th smallest are both ≤ τ: look in (τ − δ, τ].
                var below = flat.le(tau.sub(width));
                long b = HostReads.Item<long>(below.count_nonzero());
                if (b >= p)
                {
                    continue;
                }

                band = le.logical_and(below.logical_not());
                baseCount = b;
            }
            else
            {
                // Both are > τ: look in (τ, τ + δ].
                using var one = 1.ToScalar();
                var leHigh = flat.le(tau.add(width, one));
                long a = HostReads.Item<long>(leHigh.count_nonzero());
                if (a < p + 1)
                {
                    continue;
                }

                band = leHigh.logical_and(le.logical_not());
                baseCount = c;
            }

            var values = flat.masked_select(band);
            long rank = p - baseCount; // 1-based rank of the p-th smallest inside the band
            if (rank < 1 || rank + 1 > values.numel())
            {
                continue; // cannot happen with consistent counts; be safe
            }

            var sorted = values.sort().Values;
            var t = sorted[rank - 1];
            var pair = HostReads.Values(sorted.narrow(0, rank - 1, 2)); // t and the next score, in one read
            BandHits++;
            return Finish(flat, t, (float)pair[0], pair[0] == pair[1], delta);
        }

        return Exact(flat);
    }

    private TopK Exact(Tensor flat)
    {
        ExactSelections++;
        long p = Count - Kept;
        var t = flat.kthvalue(p, 0).values;
        using var pScalar = p.ToScalar();
        var read = HostReads.Values(stack([t.to(ScalarType.Float64), flat.le(t).count_nonzero().gt(pScalar).to(ScalarType.Float64)])); // one read
        return Finish(flat, t, (float)read[0], read[1] != 0, Delta);
    }

    private TopK Finish(Tensor flat, Tensor t, float tValue, bool tie, double delta)
    {
        var moved = _tauValue is { } old ? Math.Abs(tValue - (double)old) : 0.0;
        Delta = Math.Max(2 * moved, Math.Max(delta / 4, Math.Abs(tValue) * 1e-7 + 1e-12));
        if (!double.IsFinite(Delta))
        {
            Delta = 0; // t = −∞ (a constraint forces off every pruned position): no band is ever needed
        }

        var newTau = t.detach().clone().DetachFromDisposeScope();
        _tau?.Dispose();
        _tau = newTau;
        _tauValue = tValue;
        var above = flat.gt(t);
        if (!tie)
        {
            return new TopK(above, false, t.clone());
        }

        long kept = HostReads.Item<long>(above.count_nonzero());
        return new TopK(LayerSelection.BreakTies(flat, above, t, Kept, kept), true, t.clone());
    }

    /// <summary>Disposes the tracked threshold.</summary>
    public void Dispose() => _tau?.Dispose();
}
