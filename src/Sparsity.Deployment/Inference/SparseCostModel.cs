namespace Sparsity.Deployment.Inference;

/// <summary>
/// When a sparse <see cref="SparseLinear"/> beats libtorch's dense <c>Linear</c> on one CPU thread: below a
/// break-even density that depends on the kernel (hence the batch size). The defaults are the measured
/// break-even densities of the per-layer-shape sweep in docs/deployment.md ("When sparse pays": 784×300, 300×100 and
/// 1024×1024): the largest measured density at which sparse was faster on every shape — 10 % at batch 1 (20 % lost
/// on all three) and 20 % at batch 128 (30 % lost on 784×300).
/// </summary>
public sealed record SparseCostModel
{
    private readonly double _rowGather = 0.10;
    private readonly double _batched = 0.20;

    /// <summary>The default, measured cost model.</summary>
    public static SparseCostModel Default { get; } = new();

    /// <summary>Largest density at which the row-gather kernel (batch ≤ <see cref="SparseLinear.RowGatherMaxBatch"/>) is used; in [0, 1].</summary>
    public double RowGatherMaxDensity
    {
        get => _rowGather;
        init => _rowGather = InUnitInterval(value, nameof(RowGatherMaxDensity));
    }

    /// <summary>Largest density at which the batched (transposed) kernel is used; in [0, 1].</summary>
    public double BatchedMaxDensity
    {
        get => _batched;
        init => _batched = InUnitInterval(value, nameof(BatchedMaxDensity));
    }

    /// <summary>Whether the sparse kernel is predicted faster than dense for a layer of this density at this batch size.</summary>
    /// <param name="density">Kept fraction of the layer's weights.</param>
    /// <param name="batch">Examples in the call (product of the input's leading dimensions).</param>
    public bool SparsePays(double density, long batch) =>
        density <= (batch <= SparseLinear.RowGatherMaxBatch ? RowGatherMaxDensity : BatchedMaxDensity);

    private static double InUnitInterval(double value, string name) =>
        value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in [0, 1].");
}
