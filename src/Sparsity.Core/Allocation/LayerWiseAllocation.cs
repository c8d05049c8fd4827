namespace Sparsity;

/// <summary>
/// Uniform layer-wise allocation: every layer keeps <c>n − ⌊s·n⌋</c> of its n weights (its own top-k), so
/// every layer has the same density up to rounding. The overall kept count is the sum of the per-layer
/// counts. Since sparsity &lt; 1, every layer keeps at least one weight.
/// </summary>
public sealed class LayerWiseAllocation : PerLayerAllocation
{
    /// <inheritdoc />
    public override string Name => "layer-wise";

    private protected override long[] ComputeKeptCounts(IReadOnlyList<LayerShape> layers, double sparsity) =>
        layers.Select(l => SparsityBudget.KeptCount(l.Count, sparsity)).ToArray();
}
