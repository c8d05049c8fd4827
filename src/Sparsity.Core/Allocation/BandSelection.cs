using System.Numerics;

namespace Sparsity;

/// <summary>
/// Selection of the r-th largest value among the scores gathered between two brackets
/// (<see cref="CpuTopKSelection"/>): a histogram of 4,096 equal-width bins over the values' finite range finds
/// the bin that holds it, and a quickselect inside that bin alone gives the value. Two passes over the band
/// plus one over a bin, instead of a quickselect's partitioning of the whole band.
/// </summary>
internal static class BandSelection
{
    private const int Bins = 4096;

    /// <summary>The <paramref name="rank"/>-th largest value (1-based) of the segments, and how many values exceed it.</summary>
    public static (T Value, long Greater) KthLargest<T>(IReadOnlyList<ArraySegment<T>> segments, long rank)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        long total = 0;
        foreach (var segment in segments)
        {
            total += segment.Count;
            foreach (var v in segment.AsSpan())
            {
                double d = double.CreateTruncating(v);
                if (double.IsFinite(d))
                {
                    lo = Math.Min(lo, d);
                    hi = Math.Max(hi, d);
                }
            }
        }

        if (rank < 1 || rank > total)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must lie in [1, {total}].");
        }

        // Monotone in the value, so the bins are ordered; infinities fall into the end bins.
        double scale = hi > lo && double.IsFinite(hi - lo) ? Bins / (hi - lo) : 0;
        int Bin(T v)
        {
            double d = double.CreateTruncating(v);
            return d <= lo ? 0 : d >= hi ? Bins - 1 : Math.Min(Bins - 1, (int)((d - lo) * scale));
        }

        var counts = new long[Bins];
        foreach (var segment in segments)
        {
            foreach (var v in segment.AsSpan())
            {
                counts[Bin(v)]++;
            }
        }

        long greater = 0;
        int b = Bins - 1;
        while (greater + counts[b] < rank)
        {
            greater += counts[b--];
        }

        var inBin = new T[counts[b]];
        int at = 0;
        foreach (var segment in segments)
        {
            foreach (var v in segment.AsSpan())
            {
                if (Bin(v) == b)
                {
                    inBin[at++] = v;
                }
            }
        }

        var value = Quickselect.Smallest<T>(inBin, (int)(inBin.Length - (rank - greater) + 1));
        foreach (var v in inBin)
        {
            if (v > value)
            {
                greater++;
            }
        }

        return (value, greater);
    }
}
