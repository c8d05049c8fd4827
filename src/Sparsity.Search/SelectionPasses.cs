using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sparsity.Search;

/// <summary>
/// The linear passes of <see cref="CpuThresholdTracker"/> over a layer's scores and mask bytes, 8 scores at a time
/// where the CPU has 256-bit vectors: counting against a threshold, gathering a band, and listing where the top-k
/// differs from the mask.
/// </summary>
internal static class SelectionPasses
{
    /// <summary>How many scores are ≤ <paramref name="t"/>, or &gt; it with <paramref name="above"/> (NaN counts as neither).</summary>
    public static long Count(ReadOnlySpan<float> s, float t, bool above)
    {
        var threshold = new Vector<float>(t);
        var acc = Vector<int>.Zero;
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(s);
        foreach (var v in vectors)
        {
            acc -= above ? Vector.GreaterThan(v, threshold) : Vector.LessThanOrEqual(v, threshold);
        }

        long c = Vector.Sum(acc);
        for (int i = vectors.Length * Vector<float>.Count; i < s.Length; i++)
        {
            c += (above ? s[i] > t : s[i] <= t) ? 1 : 0;
        }

        return c;
    }

    /// <summary>Counts scores ≤ lo and copies the scores in (lo, hi] to <paramref name="band"/>.</summary>
    public static (long Below, int Count) Gather(ReadOnlySpan<float> s, float lo, float hi, float[] band)
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
    public static void Differences(ReadOnlySpan<float> s, ReadOnlySpan<byte> m, float t, List<long> revive, List<long> drop) =>
        Collect(s, m, t, ties: 0, revive, drop);

    /// <summary>T = {s &gt; t} plus the lowest-index scores equal to t up to <paramref name="kept"/> in all: collect T \ M and M \ T.</summary>
    public static void DifferencesWithTies(ReadOnlySpan<float> s, ReadOnlySpan<byte> m, float t, long kept, List<long> revive, List<long> drop) =>
        Collect(s, m, t, kept - Count(s, t, above: true), revive, drop);

    /// <summary>
    /// T = {s &gt; t} plus the first <paramref name="ties"/> scores equal to t: collect T \ M and M \ T, 8 scores at a
    /// time (the equal ones taken from the lowest index while the budget lasts), then the tail one at a time.
    /// </summary>
    private static void Collect(ReadOnlySpan<float> s, ReadOnlySpan<byte> m, float t, long ties, List<long> revive, List<long> drop)
    {
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
                uint diff = keep ^ (uint)((bytes * 0x0102040810204080UL) >> 56); // bit l = byte l (bytes are 0 or 1)
                while (diff != 0)
                {
                    int l = BitOperations.TrailingZeroCount(diff);
                    ((keep >> l & 1) != 0 ? revive : drop).Add(i + l);
                    diff &= diff - 1;
                }
            }
        }

        for (; i < s.Length; i++)
        {
            bool keep = s[i] > t || (s[i] == t && ties-- > 0);
            if (keep != (m[i] != 0))
            {
                (keep ? revive : drop).Add(i);
            }
        }
    }
}
