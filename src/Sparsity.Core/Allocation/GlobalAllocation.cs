using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// Global allocation: one threshold over all prunable weights together, so layers end with different
/// densities. Keeps exactly <see cref="SparsityBudget.KeptCount"/> of the total (under <see cref="Rounding"/>,
/// PyTorch's rule by default, which matches <c>torch.nn.utils.prune.global_unstructured</c>); ties at the threshold are
/// broken by flat index over the concatenation of the layers in layer order (lower index kept).
/// </summary>
/// <remarks>
/// With <c>allowEmptyLayers</c> false (default), a layer the threshold would empty keeps its best weight;
/// to keep the total exact, the lowest-ranked kept weights of layers that keep more than one weight are
/// dropped instead (lowest score first; among equal scores the highest flat index first). Used by the
/// Lottery Jackpots budget (LJ <c>generate_pr_cfg</c>, whose exact total is
/// <see cref="KeptCountRounding.LotteryJackpots"/>), SynFlow and IMP.
/// </remarks>
/// <param name="allowEmptyLayers">When false (default), every layer keeps at least one weight.</param>
/// <param name="rounding">How the sparsity becomes the total kept count; PyTorch's rule by default.</param>
public sealed class GlobalAllocation(bool allowEmptyLayers = false, KeptCountRounding rounding = KeptCountRounding.PyTorch) : ISparsityAllocation
{
    /// <summary>When false, every layer keeps at least one weight.</summary>
    public bool AllowEmptyLayers { get; } = allowEmptyLayers;

    /// <summary>How the sparsity becomes the total kept count (<see cref="SparsityBudget.KeptCount"/>).</summary>
    public KeptCountRounding Rounding { get; } = ValidRounding(rounding);

    /// <inheritdoc />
    public string Name => "global";

    /// <inheritdoc />
    public IReadOnlyDictionary<string, long> KeptCounts(ScoreSet scores, double sparsity)
    {
        using var masks = Allocate(scores, sparsity);
        return masks.Layers.ToDictionary(l => l.Name, l => l.Kept);
    }

    /// <inheritdoc />
    public MaskSet Allocate(ScoreSet scores, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(scores);
        SparsityBudget.Validate(sparsity, nameof(sparsity));
        long total = scores.TotalCount;
        long k = SparsityBudget.KeptCount(total, sparsity, Rounding);
        if (!AllowEmptyLayers && k < scores.LayerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity,
                $"Sparsity {sparsity} keeps {k} of {total} weights, fewer than the {scores.LayerCount} layers, so some layer " +
                "would be empty; lower the sparsity or construct the allocation with allowEmptyLayers: true.");
        }

        var layers = scores.Names.Select(n => scores[n]).ToList();
        if (CpuTopKSelection.Supports(layers))
        {
            var fast = AllocateOnCpu(scores, layers, k);
            if (fast is not null)
            {
                return fast;
            }
        }

        return AllocateByConcatenation(scores, k);
    }

    /// <summary>
    /// The CPU path: threshold and masks computed over the layers' memory without concatenating
    /// (<see cref="CpuTopKSelection"/>); null when a layer would be empty and must keep its best weight, which
    /// the concatenating path handles.
    /// </summary>
    private MaskSet? AllocateOnCpu(ScoreSet scores, List<Tensor> layers, long k)
    {
        using var scope = NewDisposeScope();
        var masks = CpuTopKSelection.KeepTopK(layers, k, out var kept);
        if (!AllowEmptyLayers && kept.Any(c => c == 0))
        {
            return null;
        }

        return new MaskSet(scores.Names.Select((n, i) => KeyValuePair.Create(n, masks[i].DetachFromDisposeScope())).ToList(), kept);
    }

    /// <summary>
    /// The device-independent path: the layers are concatenated in layer order, the top k selected over the
    /// flat tensor (<see cref="TopKSelection.KeepTopK(Tensor, long)"/>) and the result split into layers.
    /// <paramref name="useCpuKernel"/> false forces the <c>kthvalue</c> selection (the reference tests compare against).
    /// </summary>
    internal MaskSet AllocateByConcatenation(ScoreSet scores, long k, bool useCpuKernel = true)
    {
        using var scope = NewDisposeScope();
        var sizes = scores.Names.Select(n => scores[n].numel()).ToArray();
        var dtype = scores.Names.Any(n => scores[n].dtype == ScalarType.Float64) ? ScalarType.Float64 : ScalarType.Float32;
        var flat = cat(scores.Names.Select(n => scores[n].detach().flatten().to(dtype)).ToList(), 0);
        var keep = TopKSelection.KeepTopK(flat, k, useCpuKernel);
        if (!AllowEmptyLayers)
        {
            keep = KeepOnePerLayer(flat, keep, sizes, useCpuKernel);
        }

        var parts = keep.split(sizes, 0);
        var masks = scores.Names.Select((n, i) =>
            KeyValuePair.Create(n, parts[i].reshape(scores[n].shape).clone().DetachFromDisposeScope())).ToList();
        return new MaskSet(masks);
    }

    private static KeptCountRounding ValidRounding(KeptCountRounding rounding)
    {
        SparsityBudget.Validate(rounding, nameof(rounding));
        return rounding;
    }

    private static Tensor KeepOnePerLayer(Tensor flat, Tensor keep, long[] sizes, bool useCpuKernel)
    {
        var parts = keep.split(sizes, 0);
        var kept = parts.Select(p => p.count_nonzero().item<long>()).ToArray();
        if (kept.All(c => c > 0))
        {
            return keep;
        }

        keep = keep.clone();
        var offsets = new long[sizes.Length];
        for (int l = 1; l < sizes.Length; l++)
        {
            offsets[l] = offsets[l - 1] + sizes[l - 1];
        }

        var index = arange(flat.numel(), ScalarType.Int64, device: flat.device);
        for (int l = 0; l < sizes.Length; l++)
        {
            if (kept[l] > 0)
            {
                continue;
            }

            // Add the layer's best weight (highest score, lowest index among equals).
            var layer = flat.narrow(0, offsets[l], sizes[l]);
            var best = offsets[l] + TopKSelection.KeepTopK(layer, 1, useCpuKernel).to(ScalarType.Int64).argmax().item<long>();
            keep[best] = tensor(true);
            kept[l] = 1;

            // Drop the lowest-ranked kept weight among layers that keep more than one.
            var eligible = keep.clone();
            for (int d = 0; d < sizes.Length; d++)
            {
                if (kept[d] <= 1)
                {
                    eligible.narrow(0, offsets[d], sizes[d]).fill_(false);
                }
            }

            var candidateScores = where(eligible, flat, flat.max()); // (a masked_fill with +∞ fails for float64 in libtorch 2.10)
            var lowest = candidateScores.min();
            var atLowest = logical_and(eligible, flat.eq(lowest));
            var drop = where(atLowest, index, tensor(-1L, device: flat.device)).max().item<long>();
            keep[drop] = tensor(false);
            int owner = Array.FindLastIndex(offsets, o => o <= drop);
            kept[owner]--;
        }

        return keep;
    }
}
