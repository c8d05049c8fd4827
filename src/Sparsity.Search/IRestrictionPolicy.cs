namespace Sparsity.Search;

/// <summary>
/// The swaps the scores propose for one layer after an optimiser step. The proposal is the difference
/// between the current mask M and the exact top-k T of the scores (k = the layer's fixed kept count; ties at
/// the k-th score broken by lowest flat index): <see cref="Pairs"/> pruned weights would be revived
/// (T \ M) and as many kept weights dropped (M \ T).
/// </summary>
/// <param name="Name">The parameter's state-dict key.</param>
/// <param name="Count">Number of weights of the layer.</param>
/// <param name="Kept">The layer's fixed kept count k.</param>
/// <param name="Pairs">Number of proposed revive/drop pairs, |T \ M| = |M \ T|.</param>
/// <param name="BoundaryTie">
/// Whether the k-th and (k+1)-th largest scores are equal, so that the top-k set is not determined by the
/// scores alone (the official short restriction then sees unequal revive and drop counts and refuses).
/// </param>
/// <param name="Epoch">The current epoch (0-based).</param>
/// <param name="Epochs">Total number of search epochs.</param>
public readonly record struct LayerProposal(string Name, long Count, long Kept, long Pairs, bool BoundaryTie, int Epoch, int Epochs);

/// <summary>
/// Decides how many of a layer's proposed swaps are carried out. Accepted swaps are always the
/// highest-scoring revivals paired with the lowest-scoring drops, so the kept count never changes.
/// </summary>
public interface IRestrictionPolicy
{
    /// <summary>Short name for reports ("none", "short").</summary>
    string Name { get; }

    /// <summary>A description including the policy's settings (recorded in checkpoints and results).</summary>
    string Description { get; }

    /// <summary>Number of pairs to swap, in [0, <see cref="LayerProposal.Pairs"/>].</summary>
    /// <param name="proposal">The layer's proposal.</param>
    long AcceptedPairs(in LayerProposal proposal);
}

/// <summary>No restriction: every layer's mask becomes the exact top-k of its scores after every step
/// (edge-popup / LJ-2021 re-selection, ties broken by lowest flat index).</summary>
public sealed class NoRestriction : IRestrictionPolicy
{
    /// <summary>The shared instance.</summary>
    public static NoRestriction Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "none";

    /// <inheritdoc />
    public string Description => "none";

    /// <inheritdoc />
    public long AcceptedPairs(in LayerProposal proposal) => proposal.Pairs;
}

/// <summary>
/// The short restriction of Lottery Jackpots as the released code runs it (LJ <c>PretrainConv.final_pop_up</c>,
/// docs/algorithms.md#the-short-restriction): a layer swaps only when the number of pruned weights whose score exceeds the
/// threshold t (the p-th smallest score, p = pruned count) equals the number of kept weights at or below t —
/// which holds exactly when no tie straddles the threshold — and then swaps
/// <c>⌈pairs · rate⌉</c> pairs with <c>rate</c> from the <see cref="Schedule"/>. Otherwise the layer's mask
/// is left unchanged for that step.
/// </summary>
/// <param name="schedule">The rate schedule; <see cref="RestrictionSchedule.Official"/> (every pair) when null.</param>
public sealed class ShortRestriction(RestrictionSchedule? schedule = null) : IRestrictionPolicy
{
    /// <summary>The rate schedule.</summary>
    public RestrictionSchedule Schedule { get; } = schedule ?? RestrictionSchedule.Official;

    /// <inheritdoc />
    public string Name => "short";

    /// <inheritdoc />
    public string Description => $"short({Schedule.Name})";

    /// <inheritdoc />
    public long AcceptedPairs(in LayerProposal proposal) =>
        proposal.BoundaryTie || proposal.Pairs == 0 ? 0 : Schedule.Pairs(proposal.Pairs, proposal.Epoch, proposal.Epochs);
}
