using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// The CPU implementation of the incremental threshold (see <see cref="ThresholdTracker"/> for the method):
/// the same selection done in C# over the tensors' memory with the SIMD passes of <see cref="SelectionPasses"/>, so
/// that a step costs two or three linear passes with no temporary tensors. Requires float32 contiguous CPU scores and
/// a bool CPU mask.
/// </summary>
internal sealed class CpuThresholdTracker : ILayerSelector
{
    private const int MaxWidenings = 3;
    private const int SampleSize = 1 << 12;
    private readonly List<long> _revive = [];
    private readonly List<long> _drop = [];
    private float[] _band = [];
    private float? _tau;
    private bool _movedDown; // whether the p-th smallest score lay below τ at the last step it moved
    private bool _guessSide; // whether the next selection gathers on that side first (after a band hit in a sparse band)

    public CpuThresholdTracker(long count, long kept)
    {
        if (kept < 1 || kept > count)
        {
            throw new ArgumentOutOfRangeException(nameof(kept), kept, $"kept must lie in [1, {count}].");
        }

        if (count > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The CPU selector handles layers of at most 2^31 − 1 weights.");
        }

        Count = count;
        Kept = kept;
    }

    public long Count { get; }

    public long Kept { get; }

    public long CountHits { get; private set; }

    public long BandHits { get; private set; }

    public long ExactSelections { get; private set; }

    public float? ThresholdValue => _tau;

    public double Delta { get; private set; }

    public void Restore(float threshold, double delta)
    {
        _tau = threshold;
        Delta = delta;
    }

    public SwapProposal Propose(Tensor flatScores, Tensor flatMask)
    {
        var s = MemoryMarshal.Cast<byte, float>(flatScores.bytes);
        var m = flatMask.bytes;
        var (t, tie) = Threshold(s);
        _revive.Clear();
        _drop.Clear();
        long p = Count - Kept;
        if (p == 0)
        {
            for (int i = 0; i < s.Length; i++)
            {
                if (m[i] == 0)
                {
                    _revive.Add(i);
                }
            }
        }
        else if (!tie)
        {
            SelectionPasses.Differences(s, m, t, _revive, _drop);
        }
        else
        {
            SelectionPasses.DifferencesWithTies(s, m, t, Kept, _revive, _drop);
        }

        return new SwapProposal(ToTensor(_revive), ToTensor(_drop), tie);
    }

    /// <summary>The positions as an int64 CPU tensor, copied straight into its memory (no managed array per step).</summary>
    private static Tensor ToTensor(List<long> positions)
    {
        var result = empty(positions.Count, ScalarType.Int64);
        CollectionsMarshal.AsSpan(positions).CopyTo(MemoryMarshal.Cast<byte, long>(result.bytes));
        return result;
    }

    /// <summary>Gives the band buffer back (<see cref="ScratchArrays"/>).</summary>
    public void Dispose()
    {
        if (_band.Length > 0)
        {
            ScratchArrays.Return(_band);
            _band = [];
        }
    }

    /// <summary>
    /// A band buffer of at least <paramref name="length"/> values (<see cref="ScratchArrays"/>): a layer-sized array per
    /// search would otherwise land on the large-object heap and bring a full collection every few searches.
    /// </summary>
    private float[] Band(int length)
    {
        if (_band.Length < length)
        {
            Dispose();
            _band = ScratchArrays.Rent<float>(length);
        }

        return _band;
    }

    /// <summary>The p-th smallest score t and whether the (p+1)-th equals it.</summary>
    private (float T, bool Tie) Threshold(ReadOnlySpan<float> s)
    {
        long p = Count - Kept;
        if (p == 0)
        {
            CountHits++;
            return (float.NegativeInfinity, false);
        }

        if (_tau is not { } tau)
        {
            return Exact(s);
        }

        // After a step that found the threshold in a sparse band, the band on the side it moved to is gathered first:
        // that pass also counts the scores ≤ τ (below lo, plus the band when it lies below τ), so when the threshold
        // keeps drifting the same way one pass replaces the count and the gather. Otherwise (a count hit last time,
        // or a dense band, where gathering costs more than counting) the count comes first.
        double delta = Delta > 0 ? Delta : Math.Max(1e-6, Math.Abs(tau) * 1e-4);
        int firstAttempt = 0;
        long c;
        if (_guessSide)
        {
            bool below = _movedDown;
            var (atMostLo, m) = SelectionPasses.Gather(s, below ? (float)(tau - delta) : tau, below ? tau : (float)(tau + delta), Band(s.Length));
            c = below ? atMostLo + m : atMostLo;
            if (c != p && (c > p) == below)
            {
                if (Rank(p - atMostLo, m) is { } rank)
                {
                    return BandHit(m, rank, delta);
                }

                firstAttempt = 1; // the first attempt's band was the guess
            }
        }
        else
        {
            c = SelectionPasses.Count(s, tau, above: false);
        }

        if (c == p)
        {
            CountHits++;
            _guessSide = false;
            return (tau, false);
        }

        _movedDown = c > p;
        for (int attempt = 0; attempt <= MaxWidenings; attempt++, delta *= 4)
        {
            float lo, hi;
            if (c > p)
            {
                lo = (float)(tau - delta);
                hi = tau;
            }
            else
            {
                lo = tau;
                hi = (float)(tau + delta);
            }

            if (attempt < firstAttempt || !(lo < hi))
            {
                continue;
            }

            // One pass: count ≤ lo, gather the values in (lo, hi].
            var (atMostLo, m) = SelectionPasses.Gather(s, lo, hi, Band(s.Length));
            if (Rank(p - atMostLo, m) is { } rank)
            {
                return BandHit(m, rank, delta);
            }
        }

        _guessSide = false;
        return Exact(s);
    }

    /// <summary>The threshold from a band of <paramref name="m"/> gathered scores; guessing the side next time pays when the band is sparse.</summary>
    private (float T, bool Tie) BandHit(int m, int rank, double delta)
    {
        BandHits++;
        _guessSide = m <= Count / 16;
        return Finish(Select(_band.AsSpan(0, m), rank), delta);
    }

    /// <summary>The 1-based rank of the p-th smallest inside a band of <paramref name="m"/> values, when it and the next lie there.</summary>
    private static int? Rank(long rank, int m) => rank >= 1 && rank + 1 <= m ? (int)rank : null;

    /// <summary>
    /// The exact selection (first step, or a band that missed): brackets from an evenly spaced sample of 4,096 scores
    /// (6 binomial standard deviations plus 2 either side of the p-th), one pass that counts below and gathers between,
    /// a quickselect over the few between; every score copied and selected when the brackets miss.
    /// </summary>
    private (float T, bool Tie) Exact(ReadOnlySpan<float> s)
    {
        ExactSelections++;
        var band = Band(s.Length);
        long p = Count - Kept;
        if (s.Length > 4 * SampleSize)
        {
            var (lo, hi) = SampleBrackets(s, p);
            var (below, m) = SelectionPasses.Gather(s, lo, hi, band);
            if (Rank(p - below, m) is { } rank)
            {
                return Finish(Select(band.AsSpan(0, m), rank), Delta);
            }
        }

        s.CopyTo(band);
        return Finish(Select(band.AsSpan(0, s.Length), (int)p), Delta);
    }

    /// <summary>Brackets (lo, hi] around the p-th smallest score (and the next one) from an evenly spaced sample.</summary>
    private static (float Lo, float Hi) SampleBrackets(ReadOnlySpan<float> s, long p)
    {
        var rented = ScratchArrays.Rent<float>(SampleSize);
        try
        {
            var sample = rented.AsSpan(0, SampleSize);
            long stride = s.Length / SampleSize;
            for (int i = 0; i < SampleSize; i++)
            {
                sample[i] = s[(int)(i * stride)];
            }

            var (lo, _, hi, _) = Quickselect.Brackets(sample, q: (double)p / s.Length, room: 1); // room for the (p+1)-th
            return (lo, hi);
        }
        finally
        {
            ScratchArrays.Return(rented);
        }
    }

    private (float T, bool Tie) Finish((float T, float Next) selected, double delta)
    {
        var (t, next) = selected;
        double moved = _tau is { } old ? Math.Abs(t - (double)old) : 0.0;
        Delta = Math.Max(2 * moved, Math.Max(delta / 4, Math.Abs(t) * 1e-7 + 1e-12));
        if (!double.IsFinite(Delta))
        {
            Delta = 0; // t = −∞ (a constraint forces off every pruned position): no band is ever needed
        }

        _tau = t;
        return (t, t == next);
    }

    /// <summary>The rank-th and (rank+1)-th smallest values (1-based) of <paramref name="values"/> (reordered in place).</summary>
    private static (float, float) Select(Span<float> values, int rank)
    {
        float t = Quickselect.Smallest(values, rank);
        float next = float.PositiveInfinity;
        for (int i = rank; i < values.Length; i++)
        {
            if (values[i] < next)
            {
                next = values[i];
            }
        }

        return (t, next);
    }
}
