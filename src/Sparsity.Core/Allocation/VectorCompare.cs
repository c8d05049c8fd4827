using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sparsity;

/// <summary>Branch-free comparisons of 8 scores at a time, shared by the CPU top-k and its band selection.</summary>
internal static class VectorCompare
{
    /// <summary>For each 8-bit pattern, the 8 bytes 0 or 1 it spreads to (bit l → byte l): a mask written 8 scores at a time.</summary>
    public static readonly ulong[] ByteSpread = BuildByteSpread();

    /// <summary>For the 8 scores from <paramref name="i"/>: the bits of s &gt; threshold (s ≥ threshold with <paramref name="orEqual"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Greater8<T>(ref T start, int i, Vector256<T> threshold, bool orEqual)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector256<T>.Count == 8)
        {
            var v = Vector256.LoadUnsafe(ref start, (nuint)i);
            return (orEqual ? Vector256.GreaterThanOrEqual(v, threshold) : Vector256.GreaterThan(v, threshold)).ExtractMostSignificantBits();
        }

        var a = Vector256.LoadUnsafe(ref start, (nuint)i);
        var b = Vector256.LoadUnsafe(ref start, (nuint)(i + 4));
        return orEqual
            ? Vector256.GreaterThanOrEqual(a, threshold).ExtractMostSignificantBits() | (Vector256.GreaterThanOrEqual(b, threshold).ExtractMostSignificantBits() << 4)
            : Vector256.GreaterThan(a, threshold).ExtractMostSignificantBits() | (Vector256.GreaterThan(b, threshold).ExtractMostSignificantBits() << 4);
    }

    private static ulong[] BuildByteSpread()
    {
        var table = new ulong[256];
        for (int bits = 0; bits < 256; bits++)
        {
            ulong value = 0;
            for (int b = 0; b < 8; b++)
            {
                value |= (ulong)((bits >> b) & 1) << (8 * b);
            }

            table[bits] = value;
        }

        return table;
    }
}
