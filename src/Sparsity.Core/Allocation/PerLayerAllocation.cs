namespace Sparsity;

/// <summary>
/// Base of allocations that fix a kept count per layer from shapes alone and then keep each layer's
/// top-k scores (<see cref="LayerWiseAllocation"/>, <see cref="ErkAllocation"/>).
/// </summary>
public abstract class PerLayerAllocation : ISparsityAllocation
{
    /// <summary>An allocation with PyTorch's rounding (<see cref="KeptCountRounding.PyTorch"/>).</summary>
    protected PerLayerAllocation()
        : this(KeptCountRounding.PyTorch)
    {
    }

    /// <summary>An allocation with the given rounding.</summary>
    /// <param name="rounding">How a sparsity becomes a kept count.</param>
    private protected PerLayerAllocation(KeptCountRounding rounding)
    {
        SparsityBudget.Validate(rounding, nameof(rounding));
        Rounding = rounding;
    }

    /// <summary>How a sparsity becomes a kept count (<see cref="SparsityBudget.KeptCount"/>).</summary>
    public KeptCountRounding Rounding { get; }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, long> KeptCounts(ScoreSet scores, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(scores);
        SparsityBudget.Validate(sparsity, nameof(sparsity));
        var counts = ComputeKeptCounts(scores.Names.Select(n => new LayerShape(n, scores[n].shape)).ToList(), sparsity);
        return scores.Names.Zip(counts).ToDictionary(p => p.First, p => p.Second);
    }

    /// <inheritdoc />
    public MaskSet Allocate(ScoreSet scores, double sparsity)
    {
        var counts = KeptCounts(scores, sparsity);
        var masks = new List<KeyValuePair<string, TorchSharp.torch.Tensor>>(scores.LayerCount);
        try
        {
            foreach (var name in scores.Names)
            {
                masks.Add(KeyValuePair.Create(name, TopKSelection.KeepTopK(scores[name], counts[name])));
            }

            return new MaskSet(masks);
        }
        catch
        {
            masks.ForEach(m => m.Value.Dispose());
            throw;
        }
    }

    /// <summary>Kept count per layer (same order as <paramref name="layers"/>).</summary>
    /// <param name="layers">Name and shape of every layer.</param>
    /// <param name="sparsity">Validated target sparsity.</param>
    private protected abstract long[] ComputeKeptCounts(IReadOnlyList<LayerShape> layers, double sparsity);

    /// <summary>A layer's name and weight shape.</summary>
    /// <param name="Name">The parameter's state-dict key.</param>
    /// <param name="Shape">The weight's shape.</param>
    private protected sealed record LayerShape(string Name, long[] Shape)
    {
        public long Count => Shape.Aggregate(1L, (a, b) => a * b);
    }
}
