using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>
/// Magnitude criterion: the score of a weight is its absolute value, S = |W| (Han et al., "Learning both
/// Weights and Connections for Efficient Neural Networks", NeurIPS 2015; the <c>Mag</c> pruner of
/// Synaptic-Flow and the initialiser/budget of Lottery Jackpots, docs/algorithms.md#magnitude). Data-free, one shot.
/// </summary>
/// <remarks>
/// Scores are taken from the live weights, so a weight already zeroed by a mask scores 0. They have the
/// weight's dtype and device. At extreme sparsity a global threshold can empty small or low-magnitude layers
/// (layer collapse, docs/algorithms.md#magnitude); <see cref="GlobalAllocation"/> keeps one weight per layer
/// by default.
/// </remarks>
public sealed class MagnitudeCriterion : IPruningCriterion
{
    /// <inheritdoc />
    public string Name => "magnitude";

    /// <inheritdoc />
    public bool RequiresData => false;

    /// <summary>Scores every parameter by |w|; batches and options are ignored.</summary>
    /// <inheritdoc />
    public ScoreSet Score(
        nn.Module model,
        IReadOnlyList<PrunableParameter> parameters,
        IEnumerable<Batch> batches,
        ScoringOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ScoringSupport.ValidateParameters(model, parameters);
        cancellationToken.ThrowIfCancellationRequested();
        var scores = new List<KeyValuePair<string, Tensor>>(parameters.Count);
        try
        {
            foreach (var p in parameters)
            {
                using var scope = NewDisposeScope();
                scores.Add(KeyValuePair.Create(p.Name, p.Weight.detach().abs().MoveToOuterDisposeScope()));
            }

            return new ScoreSet(scores);
        }
        catch
        {
            scores.ForEach(s => s.Value.Dispose());
            throw;
        }
    }
}
