namespace Sparsity;

/// <summary>
/// Uniform layer-wise allocation: every layer keeps <c>n − ⌊s·n⌋</c> of its n weights (its own top-k), so
/// every layer has the same density up to rounding. The overall kept count is the sum of the per-layer
/// counts. With <see cref="PerLayerAllocation.AllowEmptyLayers"/> false a layer that would keep nothing
/// keeps its best weight.
/// </summary>
/// <param name="allowEmptyLayers">When false (default), every layer keeps at least one weight.</param>
public sealed class LayerWiseAllocation(bool allowEmptyLayers = false) : PerLayerAllocation(allowEmptyLayers)
{
    /// <inheritdoc />
    public override string Name => "layer-wise";

    private protected override long[] ComputeKeptCounts(IReadOnlyList<LayerShape> layers, double sparsity) =>
        GuardEmpty(layers.Select(l => SparsityBudget.KeptCount(l.Count, sparsity)).ToArray());
}
