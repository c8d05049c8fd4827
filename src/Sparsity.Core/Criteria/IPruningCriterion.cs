using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// A pruning criterion: scores every prunable weight, higher meaning <em>keep</em>. An allocation
/// (<see cref="ISparsityAllocation"/>) turns the scores into a mask.
/// </summary>
/// <remarks>
/// Contract for implementations: scores live on the model's device, one tensor per parameter with the
/// parameter's shape; the model is left exactly as it was found (weights, gradients, buffers, train/eval
/// mode, <c>requires_grad</c>), also when scoring fails; data-free criteria ignore the batches.
/// </remarks>
public interface IPruningCriterion
{
    /// <summary>Short name used in reports (for example <c>"snip"</c>).</summary>
    string Name { get; }

    /// <summary>Whether <see cref="Score"/> needs at least one batch.</summary>
    bool RequiresData { get; }

    /// <summary>Scores the given parameters of <paramref name="model"/>.</summary>
    /// <param name="model">The model to score; restored to its original state before returning.</param>
    /// <param name="parameters">The prunable parameters to score (for example from <see cref="ParameterSelector"/>).</param>
    /// <param name="batches">Batches for data-dependent criteria (never disposed by the criterion).</param>
    /// <param name="options">Target sparsity and allocation for iterative criteria; defaults when null.</param>
    /// <param name="cancellationToken">Checked between batches and rounds.</param>
    /// <returns>A new score set owned by the caller.</returns>
    ScoreSet Score(
        nn.Module model,
        IReadOnlyList<PrunableParameter> parameters,
        IEnumerable<Batch> batches,
        ScoringOptions? options = null,
        CancellationToken cancellationToken = default);
}
