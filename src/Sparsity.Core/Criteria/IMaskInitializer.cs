using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// Gives the mask searcher (and anyone else) a starting point: scores and the mask they select. From a
/// criterion plus an allocation, or from a saved mask file.
/// </summary>
public interface IMaskInitializer
{
    /// <summary>Produces the initial scores and mask for <paramref name="parameters"/> of <paramref name="model"/>.</summary>
    /// <param name="model">The (pre-trained) model; left unchanged.</param>
    /// <param name="parameters">The prunable parameters the mask covers.</param>
    /// <param name="batches">Batches for data-dependent criteria (may be empty for data-free ones).</param>
    /// <param name="cancellationToken">Cancels long scoring.</param>
    /// <returns>Scores and mask on the model's device, owned by the caller.</returns>
    InitialMask Initialize(
        nn.Module model,
        IReadOnlyList<PrunableParameter> parameters,
        IEnumerable<Batch> batches,
        CancellationToken cancellationToken = default);
}
