using System.Numerics;

namespace Sparsity;

/// <summary>
/// Hoare-partition quickselect (Hoare, "Algorithm 65: Find", CACM 1961) with a pivot drawn from a generator seeded
/// by the length, so that a selection is reproducible. Shared by the CPU top-k and the search's threshold tracker.
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
}
