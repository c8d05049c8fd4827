namespace Sparsity.Deployment.Inference;

/// <summary>The decision <see cref="SparseDeployment.Convert"/> took for one masked layer.</summary>
/// <param name="Name">The weight's state-dict key.</param>
/// <param name="Kind">The layer kind.</param>
/// <param name="Kept">Kept weights.</param>
/// <param name="Total">All weights of the layer.</param>
/// <param name="Route">Sparse (when it pays at the call's batch size) or always dense.</param>
/// <param name="Reason">Why, in words (density against the cost model, device, dtype, layer kind).</param>
public sealed record LayerDeployment(string Name, PrunableLayerKind Kind, long Kept, long Total, LayerRoute Route, string Reason)
{
    /// <summary>Kept fraction.</summary>
    public double Density => Total == 0 ? 0 : (double)Kept / Total;
}
