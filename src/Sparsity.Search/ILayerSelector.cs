using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>Proposed swaps of one layer: flat indices to revive (T \ M) and to drop (M \ T), int64, on the scores' device.</summary>
/// <param name="Revive">Pruned positions the exact top-k T keeps.</param>
/// <param name="Drop">Kept positions T prunes (as many as <paramref name="Revive"/>).</param>
/// <param name="BoundaryTie">Whether the k-th and (k+1)-th largest scores are equal.</param>
internal readonly record struct SwapProposal(Tensor Revive, Tensor Drop, bool BoundaryTie)
{
    public long Pairs => Revive.numel();
}

/// <summary>
/// A per-layer selector that finds the exact top-k T of the scores (ties by lowest flat index) and reports
/// how it differs from the current mask. Implementations keep state between steps only to be fast.
/// </summary>
internal interface ILayerSelector : IDisposable
{
    long Count { get; }

    long Kept { get; }

    long CountHits { get; }

    long BandHits { get; }

    long ExactSelections { get; }

    /// <summary>The tracked threshold value, or null before the first selection.</summary>
    float? ThresholdValue { get; }

    /// <summary>The band half-width.</summary>
    double Delta { get; }

    /// <summary>Restores a saved threshold and band width.</summary>
    void Restore(float threshold, double delta);

    /// <summary>Compares the exact top-k of <paramref name="flatScores"/> with <paramref name="flatMask"/> (both 1-D).</summary>
    SwapProposal Propose(Tensor flatScores, Tensor flatMask);

    /// <summary>
    /// The <paramref name="accepted"/> pairs carried out when a restriction accepts fewer than all proposed pairs
    /// (in the current dispose scope). Default: the highest-scoring revivals and the lowest-scoring drops.
    /// </summary>
    (Tensor Revive, Tensor Drop) Restrict(SwapProposal proposal, Tensor flatScores, long accepted) => (
        proposal.Revive.index_select(0, flatScores.index_select(0, proposal.Revive).topk((int)accepted).indexes),
        proposal.Drop.index_select(0, flatScores.index_select(0, proposal.Drop).topk((int)accepted, largest: false).indexes));
}
