using static TorchSharp.torch;

namespace Sparsity.Deployment.Inference;

/// <summary>
/// A model converted by <see cref="SparseDeployment.Convert"/>: call <see cref="Model"/> as before; converted
/// layers compute sparsely. <see cref="Dispose"/> removes the hooks (the pruned weights stay zero) and frees the
/// sparse copies; the model itself stays the caller's.
/// </summary>
public sealed class DeployedModel : IDisposable
{
    private readonly List<SparseRoute> _routes;
    private bool _disposed;

    internal DeployedModel(nn.Module model, IReadOnlyList<LayerDeployment> layers, List<SparseRoute> routes)
    {
        Model = model;
        Layers = layers;
        _routes = routes;
    }

    /// <summary>The converted model (the same object that was passed in).</summary>
    public nn.Module Model { get; }

    /// <summary>The decision for every masked layer, in parameter order.</summary>
    public IReadOnlyList<LayerDeployment> Layers { get; }

    /// <summary>The sparse layers now serving the converted <c>Linear</c> layers.</summary>
    public IReadOnlyList<SparseLinear> SparseLayers => _routes.Select(r => r.Sparse).ToList();

    /// <summary>Removes the hooks and frees the sparse copies.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _routes.ForEach(r => r.Dispose());
    }
}
