namespace Sparsity.Deployment.Inference;

/// <summary>How <see cref="SparseDeployment.Convert"/> routes one masked layer.</summary>
public enum LayerRoute
{
    /// <summary>Through <see cref="SparseLinear"/> whenever the cost model says it pays at the call's batch size; dense otherwise.</summary>
    Sparse = 0,

    /// <summary>Always dense (masked weights zeroed in place).</summary>
    Dense = 1,
}
