using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>
/// An <see cref="IMaskInitializer"/> that scores the model with a criterion and cuts the scores at a sparsity
/// with an allocation: the starting mask of a mask search (for Lottery Jackpots: magnitude with global
/// allocation, docs/algorithms.md#magnitude and #lottery-jackpots).
/// </summary>
public sealed class CriterionMaskInitializer : IMaskInitializer
{
    /// <summary>Creates the initializer.</summary>
    /// <param name="criterion">The criterion that scores the weights.</param>
    /// <param name="allocation">Turns the scores into a mask (also used between rounds of an iterative criterion).</param>
    /// <param name="sparsity">Fraction of the prunable weights to remove, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> outside [0, 1).</exception>
    public CriterionMaskInitializer(IPruningCriterion criterion, ISparsityAllocation allocation, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        ArgumentNullException.ThrowIfNull(allocation);
        SparsityBudget.Validate(sparsity, nameof(sparsity));
        Criterion = criterion;
        Allocation = allocation;
        Sparsity = sparsity;
    }

    /// <summary>The criterion.</summary>
    public IPruningCriterion Criterion { get; }

    /// <summary>The allocation.</summary>
    public ISparsityAllocation Allocation { get; }

    /// <summary>The target sparsity.</summary>
    public double Sparsity { get; }

    /// <summary>
    /// Scores with <see cref="Criterion"/> (passing the sparsity and allocation as <see cref="ScoringOptions"/>)
    /// and allocates the mask. The model is left unchanged.
    /// </summary>
    /// <inheritdoc />
    public InitialMask Initialize(
        nn.Module model,
        IReadOnlyList<PrunableParameter> parameters,
        IEnumerable<Batch> batches,
        CancellationToken cancellationToken = default)
    {
        var scores = Criterion.Score(model, parameters, batches,
            new ScoringOptions { TargetSparsity = Sparsity, Allocation = Allocation }, cancellationToken);
        try
        {
            var mask = Allocation.Allocate(scores, Sparsity);
            return new InitialMask(scores, mask);
        }
        catch
        {
            scores.Dispose();
            throw;
        }
    }
}
