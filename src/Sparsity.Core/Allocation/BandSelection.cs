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
            var (above, between) = Gather(segments, lower, upper, threads);
            long inner = rank - above;
            if (inner >= 1 && inner <= between.Length)
            {
                return Select(between, inner, above);
            }
        }

        return Select(Gather(segments, T.NegativeInfinity, T.PositiveInfinity, threads).Between, rank, 0);
    }

    /// <summary>Sample-based brackets around the rank-th largest of the concatenated segments.</summary>
    private static (T Lower, T Upper) Brackets<T>(IReadOnlyList<ArraySegment<T>> segments, long total, long rank)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sample = new T[SampleSize];
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

        double q = (double)(total - rank) / total;          // fraction of values below the rank-th largest
        double margin = (6.0 * Math.Sqrt(SampleSize * q * (1.0 - q))) + 2.0;
        int lowRank = (int)Math.Floor((q * SampleSize) - margin);
        int highRank = (int)Math.Ceiling((q * SampleSize) + margin);
        T lower = T.NegativeInfinity, upper = T.PositiveInfinity;
        int skip = 0;
        if (lowRank >= 1)
        {
            lower = Quickselect.Smallest<T>(sample, lowRank);
            skip = lowRank;
        }

        if (highRank <= SampleSize)
        {
            upper = Quickselect.Smallest<T>(sample.AsSpan(skip), highRank - skip);
        }

        return (lower, upper);
    }

    /// <summary>Counts the values above <paramref name="upper"/> and gathers those in [lower, upper], segments in parallel.</summary>
    private static (long Above, T[] Between) Gather<T>(IReadOnlyList<ArraySegment<T>> segments, T lower, T upper, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long above = 0;
        var between = new List<T>();
        Parallel.For(0, segments.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => (Above: 0L, Between: new List<T>()), (s, _, local) =>
        {
            // Branch-free over blocks of 8: the values' order around the brackets is random.
            var values = segments[s].AsSpan();
            var vl = Vector256.Create(lower);
            var vu = Vector256.Create(upper);
            ref T start = ref MemoryMarshal.GetReference(values);
            int i = 0;
            for (; Vector256.IsHardwareAccelerated && i + 8 <= values.Length; i += 8)
            {
                uint aboveUpper = CpuTopKSelection.Greater8(ref start, i, vu, orEqual: false);
                uint between = CpuTopKSelection.Greater8(ref start, i, vl, orEqual: true) & ~aboveUpper;
                local.Above += BitOperations.PopCount(aboveUpper);
                while (between != 0)
                {
                    local.Between.Add(values[i + BitOperations.TrailingZeroCount(between)]);
                    between &= between - 1;
                }
            }

            for (; i < values.Length; i++)
            {
                if (values[i] > upper)
                {
                    local.Above++;
                }
                else if (values[i] >= lower)
                {
                    local.Between.Add(values[i]);
                }
            }

            return local;
        }, local =>
        {
            lock (between)
            {
                above += local.Above;
                between.AddRange(local.Between);
            }
        });

        return (above, between.ToArray()); // the selection does not depend on the gathering order
    }

    /// <summary>The rank-th largest of <paramref name="values"/>, and <paramref name="above"/> plus how many of them exceed it.</summary>
    private static (T Value, long Greater) Select<T>(T[] values, long rank, long above)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var value = Quickselect.Smallest<T>(values, (int)(values.Length - rank + 1));
        long greater = above;
        foreach (var v in values)
        {
            if (v > value)
            {
                greater++;
            }
        }

        return (value, greater);
    }
}
