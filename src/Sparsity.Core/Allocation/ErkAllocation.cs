namespace Sparsity;

/// <summary>
/// Erdős–Rényi-kernel allocation (Evci et al., "Rigging the Lottery", ICML 2020, §3 and the RigL code's
/// <c>get_sparsities</c>): layer l gets density <c>d_l = ε · (Σ dims_l) / (Π dims_l)</c> (for a conv
/// [o, i, kh, kw]: (o + i + kh + kw) / (o·i·kh·kw); for a linear layer: (o + i) / (o·i), i.e. Erdős–Rényi),
/// with ε chosen so that the total kept count equals <see cref="SparsityBudget.KeptCount"/> of all
/// weights (under <see cref="PerLayerAllocation.Rounding"/>). Layers whose density would exceed 1 are made dense and ε is solved again for the rest, as
/// in RigL.
/// </summary>
/// <remarks>
/// Integer counts: each layer first gets ⌊d_l·n_l⌋; the remaining weights of the exact total go one each
/// to the layers with the largest fractional parts (ties: earlier layer first), never above n_l. With
/// <c>allowEmptyLayers</c> false a layer with a zero count gets one weight, taken
/// from the layer that keeps the most, so the total stays exact.
/// </remarks>
/// <param name="allowEmptyLayers">When false (default), every layer keeps at least one weight.</param>
/// <param name="rounding">How the sparsity becomes the total kept count; PyTorch's rule by default.</param>
public sealed class ErkAllocation(bool allowEmptyLayers = false, KeptCountRounding rounding = KeptCountRounding.PyTorch)
    : PerLayerAllocation(rounding)
{
    /// <summary>When false, every layer keeps at least one weight.</summary>
    public bool AllowEmptyLayers { get; } = allowEmptyLayers;

    /// <inheritdoc />
    public override string Name => "erk";

    /// <summary>
    /// Real-valued ERK densities d_l (before rounding to counts), in layer order; exposed so callers and
    /// tests can compare with the formula.
    /// </summary>
    /// <param name="shapes">Weight shapes in layer order.</param>
    /// <param name="sparsity">Target sparsity in [0, 1).</param>
    public static double[] Densities(IReadOnlyList<long[]> shapes, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        SparsityBudget.Validate(sparsity, nameof(sparsity));
        var n = shapes.Select(s => (double)s.Aggregate(1L, (a, b) => a * b)).ToArray();
        var raw = shapes.Select(s => s.Sum(d => (double)d) / s.Aggregate(1.0, (a, b) => a * b)).ToArray();
        var dense = new bool[shapes.Count];
        double density = 1.0 - sparsity;
        while (true)
        {
            double rhs = 0, divisor = 0;
            for (int l = 0; l < n.Length; l++)
            {
                if (dense[l])
                {
                    rhs -= n[l] * sparsity;
                }
                else
                {
                    rhs += n[l] * density;
                    divisor += raw[l] * n[l];
                }
            }

            if (divisor <= 0)
            {
                return dense.Select(_ => 1.0).ToArray();
            }

            double epsilon = rhs / divisor;
            double maxRaw = Enumerable.Range(0, n.Length).Where(l => !dense[l]).Max(l => raw[l]);
            if (maxRaw * epsilon <= 1.0)
            {
                return Enumerable.Range(0, n.Length).Select(l => dense[l] ? 1.0 : epsilon * raw[l]).ToArray();
            }

            for (int l = 0; l < n.Length; l++)
            {
                if (!dense[l] && raw[l] == maxRaw)
                {
                    dense[l] = true;
                }
            }
        }
    }

    private protected override long[] ComputeKeptCounts(IReadOnlyList<LayerShape> layers, double sparsity)
    {
        var densities = Densities(layers.Select(l => l.Shape).ToList(), sparsity);
        var n = layers.Select(l => l.Count).ToArray();
        long target = SparsityBudget.KeptCount(n.Sum(), sparsity, Rounding);
        var real = densities.Select((d, l) => Math.Min(d * n[l], n[l])).ToArray();
        var counts = real.Select(r => (long)Math.Floor(r)).ToArray();
        long missing = target - counts.Sum();
        var byFraction = Enumerable.Range(0, n.Length).OrderByDescending(l => real[l] - counts[l]).ThenBy(l => l).ToList();
        while (missing > 0)
        {
            bool progressed = false;
            foreach (var l in byFraction)
            {
                if (missing == 0)
                {
                    break;
                }

                if (counts[l] < n[l])
                {
                    counts[l]++;
                    missing--;
                    progressed = true;
                }
            }

            if (!progressed)
            {
                break;
            }
        }

        if (!AllowEmptyLayers)
        {
            for (int l = 0; l < n.Length; l++)
            {
                if (counts[l] == 0)
                {
                    int donor = Enumerable.Range(0, n.Length).OrderByDescending(i => counts[i]).ThenBy(i => i).First();
                    if (counts[donor] <= 1)
                    {
                        throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity,
                            $"Sparsity {sparsity} keeps {target} weights, fewer than the {n.Length} layers; lower the sparsity or allow empty layers.");
                    }

                    counts[donor]--;
                    counts[l] = 1;
                }
            }
        }

        return counts;
    }
}
