using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sparsity;

/// <summary>
/// Selection of the r-th largest value among the scores gathered between two brackets
/// (<see cref="CpuTopKSelection"/>), by the same idea one level down: an evenly spaced sample of 4,096 band values
/// brackets the r-th largest (6 binomial standard deviations plus 2 either side), one parallel pass counts the values
/// above the upper bracket and gathers those between (≈ 10 % of the band at most), and a quickselect over them
/// gives the value. A band of at most 32,768 values, or brackets that miss, are selected over directly.
/// </summary>
internal static class BandSelection
{
    private const int SampleSize = 1 << 12;
    private const int DirectLimit = 1 << 15;

    /// <summary>The <paramref name="rank"/>-th largest value (1-based) of the segments, and how many values exceed it.</summary>
    public static (T Value, long Greater) KthLargest<T>(IReadOnlyList<ArraySegment<T>> segments, long rank, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long total = segments.Sum(s => (long)s.Count);
        if (rank < 1 || rank > total)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must lie in [1, {total}].");
        }

        if (total > DirectLimit)
        {
            var (lower, upper) = Brackets(segments, total, rank);
            var (above, between, count) = Gather(segments, lower, upper, threads);
            try
            {
                long inner = rank - above;
                if (inner >= 1 && inner <= count)
                {
                    return Select(between.AsSpan(0, count), inner, above);
                }
            }
            finally
            {
                ScratchArrays.Return(between);
            }
        }

        var (_, all, allCount) = Gather(segments, T.NegativeInfinity, T.PositiveInfinity, threads);
        try
        {
            return Select(all.AsSpan(0, allCount), rank, 0);
        }
        finally
        {
            ScratchArrays.Return(all);
        }
    }

    /// <summary>Sample-based brackets around the rank-th largest of the concatenated segments.</summary>
    private static (T Lower, T Upper) Brackets<T>(IReadOnlyList<ArraySegment<T>> segments, long total, long rank)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rented = ScratchArrays.Rent<T>(SampleSize);
        try
        {
            var sample = rented.AsSpan(0, SampleSize);
            long stride = total / SampleSize;
            int segment = 0;
            long offset = 0;
            for (int i = 0; i < SampleSize; i++)
            {
                long index = i * stride;
                while (index >= offset + segments[segment].Count)
                {
                    offset += segments[segment++].Count;
                }

                sample[i] = segments[segment][(int)(index - offset)];
            }

            var (lower, _, upper, _) = Quickselect.Brackets(sample, q: (double)(total - rank) / total); // q: the fraction below the rank-th largest
            return (lower, upper);
        }
        finally
        {
            ScratchArrays.Return(rented);
        }
    }

    /// <summary>
    /// Counts the values above <paramref name="upper"/> and gathers those in [lower, upper] to the front of a buffer
    /// (segments in parallel, each into its own stretch, then moved together); the caller returns the buffer.
    /// </summary>
    private static (long Above, T[] Between, int Count) Gather<T>(IReadOnlyList<ArraySegment<T>> segments, T lower, T upper, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var offsets = new int[segments.Count + 1];
        for (int s = 0; s < segments.Count; s++)
        {
            offsets[s + 1] = offsets[s] + segments[s].Count;
        }

        var buffer = ScratchArrays.Rent<T>(offsets[^1]);
        var above = new long[segments.Count];
        var counts = new int[segments.Count];
        Parallel.For(0, segments.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, s =>
        {
            // Branch-free over blocks of 8: the values' order around the brackets is random.
            var values = segments[s].AsSpan();
            var into = buffer.AsSpan(offsets[s], values.Length);
            ref T start = ref MemoryMarshal.GetReference(values);
            var vl = Vector256.Create(lower);
            var vu = Vector256.Create(upper);
            int count = 0, i = 0;
            for (; Vector256.IsHardwareAccelerated && i + 8 <= values.Length; i += 8)
            {
                uint aboveUpper = VectorCompare.Greater8(ref start, i, vu, orEqual: false);
                uint between = VectorCompare.Greater8(ref start, i, vl, orEqual: true) & ~aboveUpper;
                above[s] += BitOperations.PopCount(aboveUpper);
                while (between != 0)
                {
                    into[count++] = values[i + BitOperations.TrailingZeroCount(between)];
                    between &= between - 1;
                }
            }

            for (; i < values.Length; i++)
            {
                if (values[i] > upper)
                {
                    above[s]++;
                }
                else if (values[i] >= lower)
                {
                    into[count++] = values[i];
                }
            }

            counts[s] = count;
        });

        int gathered = 0;
        for (int s = 0; s < segments.Count; s++)
        {
            Array.Copy(buffer, offsets[s], buffer, gathered, counts[s]); // forward moves within one array: safe
            gathered += counts[s];
        }

        return (above.Sum(), buffer, gathered);
    }

    /// <summary>The rank-th largest of <paramref name="values"/> (reordered), and <paramref name="above"/> plus how many of them exceed it.</summary>
    private static (T Value, long Greater) Select<T>(Span<T> values, long rank, long above)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = Quickselect.Smallest<T>(values, (int)(values.Length - rank + 1));
        long greater = above;
        foreach (var v in values)
        {
            greater += v > value ? 1 : 0;
        }

        return (value, greater);
    }
}
