using System.Numerics;

namespace Sparsity;

/// <summary>
/// Hoare-partition quickselect (Hoare, "Algorithm 65: Find", CACM 1961) with a pivot drawn from a generator seeded
/// by the length, so that a selection is reproducible. Shared by the CPU top-k, its band selection and the search's
/// threshold tracker, which also share <see cref="Brackets"/>.
/// </summary>
internal static class Quickselect
{
    /// <summary>
    /// The rank-th smallest value (1-based) of <paramref name="values"/>, which is reordered in place so that no
    /// value after position rank − 1 is smaller than it.
    /// </summary>
    public static T Smallest<T>(Span<T> values, int rank)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int target = rank - 1;
        int left = 0, right = values.Length - 1;
        var rng = new Random(values.Length);
        while (right > left)
        {
            T pivot = values[left + rng.Next(right - left + 1)];
            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot)
                {
                    i++;
                }

                while (values[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (target <= j)
            {
                right = j;
            }
            else if (target >= i)
            {
                left = i;
            }
            else
            {
                break;
            }
        }

        return values[target];
    }

    /// <summary>
    /// Brackets around the q-quantile of the population a sample was drawn from: the sample's values at the ranks
    /// q·m ∓ (6 binomial standard deviations + 2), the upper one <paramref name="room"/> ranks higher still, and the
    /// sample's own quantile between them as an estimate; infinite where a rank falls outside the sample. Also the
    /// fraction of the population expected between the brackets. <paramref name="sample"/> is reordered.
    /// </summary>
    public static (T Lower, T Estimate, T Upper, double Fraction) Brackets<T>(Span<T> sample, double q, int room = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = sample.Length;
        double margin = (6.0 * Math.Sqrt(m * q * (1.0 - q))) + 2.0;
        int lowRank = (int)Math.Floor((q * m) - margin);            // 1-based ranks in the sample
        int highRank = (int)Math.Ceiling((q * m) + margin) + room;
        int estimateRank = Math.Clamp((int)Math.Round(q * m) + 1, Math.Max(1, lowRank), Math.Min(m, highRank));

        // Each selection leaves the smaller values before its rank, so the next one searches the rest.
        T lower = T.NegativeInfinity, upper = T.PositiveInfinity;
        int skip = 0;
        if (lowRank >= 1)
        {
            lower = Smallest(sample, lowRank);
            skip = lowRank;
        }

        T estimate = estimateRank > skip ? Smallest(sample[skip..], estimateRank - skip) : lower;
        skip = Math.Max(skip, estimateRank);
        if (highRank <= m)
        {
            upper = highRank > skip ? Smallest(sample[skip..], highRank - skip) : estimate;
        }

        return (lower, estimate, upper, Math.Min(1.0, (double)(highRank - lowRank) / m));
    }
}
