namespace Sparsity;

/// <summary>
/// Uniform layer-wise allocation: every layer keeps <see cref="SparsityBudget.KeptCount"/>(n, s) of its n
/// weights (its own top-k), so every layer has the same density up to rounding. The overall kept count is the
/// sum of the per-layer counts. With the default PyTorch rounding a layer keeps exactly what
/// <c>torch.nn.utils.prune.l1_unstructured(amount = s)</c> keeps from the same scores; at a sparsity close to 1 a
/// small layer may then keep nothing (<see cref="KeptCountRounding.FloorPruned"/> always keeps one).
/// </summary>
/// <param name="rounding">How the sparsity becomes each layer's kept count; PyTorch's rule by default.</param>
public sealed class LayerWiseAllocation(KeptCountRounding rounding = KeptCountRounding.PyTorch) : PerLayerAllocation(rounding)
{
    /// <inheritdoc />
    public override string Name => "layer-wise";

    private protected override long[] ComputeKeptCounts(IReadOnlyList<LayerShape> layers, double sparsity) =>
        layers.Select(l => SparsityBudget.KeptCount(l.Count, sparsity, Rounding)).ToArray();
}
