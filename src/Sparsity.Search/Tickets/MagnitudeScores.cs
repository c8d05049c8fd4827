using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>
/// Stand-in for the library's magnitude criterion (S = |W|, algorithms.md §2) until Sparsity.Criteria is
/// referenced here. Internal; replaced by <c>MagnitudeCriterion</c>.
/// </summary>
internal sealed class MagnitudeScores : IPruningCriterion
{
    public static MagnitudeScores Instance { get; } = new();

    public string Name => "magnitude";

    public bool RequiresData => false;

    public ScoreSet Score(nn.Module model, IReadOnlyList<PrunableParameter> parameters, IEnumerable<Batch> batches, ScoringOptions? options = null, CancellationToken cancellationToken = default) =>
        new(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().DetachFromDisposeScope())).ToList());
}
