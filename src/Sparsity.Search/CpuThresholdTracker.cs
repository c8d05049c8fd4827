using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// The CPU implementation of the incremental threshold (see <see cref="ThresholdTracker"/> for the method):
/// the same selection done in C# over the tensors' memory, with SIMD counting, so that a step costs one or
/// two linear passes with no temporary tensors. Requires float32 contiguous CPU scores and a bool CPU mask.
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
            Differences(s, m, t);
        }
        else
        {
            DifferencesWithTies(s, m, t);
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
            var (atMostLo, m) = Gather(s, below ? (float)(tau - delta) : tau, below ? tau : (float)(tau + delta), Band(s.Length));
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
            c = CountAtMost(s, tau);
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
            var (atMostLo, m) = Gather(s, lo, hi, Band(s.Length));
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
            var (below, m) = Gather(s, lo, hi, band);
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
        var sample = new float[SampleSize];
        long stride = s.Length / SampleSize;
        for (int i = 0; i < SampleSize; i++)
        {
            sample[i] = s[(int)(i * stride)];
        }

        var (lo, _, hi, _) = Quickselect.Brackets<float>(sample, q: (double)p / s.Length, room: 1); // room for the (p+1)-th
        return (lo, hi);
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

    private static long CountAtMost(ReadOnlySpan<float> s, float tau)
    {
        var threshold = new Vector<float>(tau);
        var acc = Vector<int>.Zero;
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(s);
        foreach (var v in vectors)
        {
            acc -= Vector.LessThanOrEqual(v, threshold);
        }

        long c = Vector.Sum(acc);
        for (int i = vectors.Length * Vector<float>.Count; i < s.Length; i++)
        {
            c += s[i] <= tau ? 1 : 0;
        }

        return c;
    }

    /// <summary>Counts scores ≤ lo and copies the scores in (lo, hi] to <paramref name="band"/>.</summary>
    private static (long Below, int Count) Gather(ReadOnlySpan<float> s, float lo, float hi, float[] band)
    {
        long below = 0;
        int m = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);
            ref float start = ref MemoryMarshal.GetReference(s);
            for (; i + 8 <= s.Length; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                uint atMostLo = Vector256.LessThanOrEqual(v, vlo).ExtractMostSignificantBits();
                uint atMostHi = Vector256.LessThanOrEqual(v, vhi).ExtractMostSignificantBits();
                below += BitOperations.PopCount(atMostLo);
                uint inBand = atMostHi & ~atMostLo;
                while (inBand != 0)
                {
                    int l = BitOperations.TrailingZeroCount(inBand);
                    band[m++] = s[i + l];
                    inBand &= inBand - 1;
                }
            }
        }

        for (; i < s.Length; i++)
        {
            float v = s[i];
            if (v <= lo)
            {
                below++;
            }
            else if (v <= hi)
            {
                band[m++] = v;
            }
        }

        return (below, m);
    }

    /// <summary>T = {s &gt; t}: collect T \ M and M \ T.</summary>
    private void Differences(ReadOnlySpan<float> s, ReadOnlySpan<byte> m, float t)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vt = Vector256.Create(t);
            ref float start = ref MemoryMarshal.GetReference(s);
            ref byte mask = ref MemoryMarshal.GetReference(m);
            for (; i + 8 <= s.Length; i += 8)
            {
                uint above = Vector256.GreaterThan(Vector256.LoadUnsafe(ref start, (nuint)i), vt).ExtractMostSignificantBits();
                ulong bytes = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref mask, i));
                uint kept = (uint)((bytes * 0x0102040810204080UL) >> 56); // bit l = byte l (bytes are 0 or 1)
                uint diff = above ^ kept;
                while (diff != 0)
                {
                    int l = BitOperations.TrailingZeroCount(diff);
                    ((above >> l & 1) != 0 ? _revive : _drop).Add(i + l);
                    diff &= diff - 1;
                }
            }
        }

        for (; i < s.Length; i++)
        {
            bool keep = s[i] > t;
            if (keep != (m[i] != 0))
            {
                (keep ? _revive : _drop).Add(i);
            }
        }
    }

    /// <summary>
    /// T = {s &gt; t} plus the lowest-index scores equal to t up to k: collect T \ M and M \ T. Eight scores at a
    /// time, as <see cref="Differences"/>, the equal ones kept from the lowest index while the tie budget lasts.
    /// </summary>
    private void DifferencesWithTies(ReadOnlySpan<float> s, ReadOnlySpan<byte> m, float t)
    {
        long ties = Kept - CountAbove(s, t);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vt = Vector256.Create(t);
            ref float start = ref MemoryMarshal.GetReference(s);
            ref byte mask = ref MemoryMarshal.GetReference(m);
            for (; i + 8 <= s.Length; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                uint keep = Vector256.GreaterThan(v, vt).ExtractMostSignificantBits();
                for (uint equal = Vector256.Equals(v, vt).ExtractMostSignificantBits(); equal != 0 && ties > 0; equal &= equal - 1, ties--)
                {
                    keep |= equal & (0u - equal); // the lowest equal score left
                }

                ulong bytes = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref mask, i));
                uint diff = keep ^ (uint)((bytes * 0x0102040810204080UL) >> 56);
                while (diff != 0)
                {
                    int l = BitOperations.TrailingZeroCount(diff);
                    ((keep >> l & 1) != 0 ? _revive : _drop).Add(i + l);
                    diff &= diff - 1;
                }
            }
        }

        for (; i < s.Length; i++)
        {
            bool keep = s[i] > t || (s[i] == t && ties-- > 0);
            if (keep != (m[i] != 0))
            {
                (keep ? _revive : _drop).Add(i);
            }
        }
    }

    private static long CountAbove(ReadOnlySpan<float> s, float t)
    {
        var threshold = new Vector<float>(t);
        var acc = Vector<int>.Zero;
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(s);
        foreach (var v in vectors)
        {
            acc -= Vector.GreaterThan(v, threshold);
        }

        long c = Vector.Sum(acc);
        for (int i = vectors.Length * Vector<float>.Count; i < s.Length; i++)
        {
            c += s[i] > t ? 1 : 0;
        }

        return c;
    }
}
