namespace Sparsity.Search;

/// <summary>What happens to BatchNorm running statistics during and after a mask search.</summary>
/// <remarks>
/// BatchNorm affine parameters (γ, β) are always frozen. The official Lottery Jackpots code leaves the
/// model in train mode, so the running mean and variance keep updating (momentum 0.1) under the changing
/// mask and evaluation uses those statistics (docs/algorithms.md#batchnorm-during-the-search).
/// </remarks>
public enum BatchNormPolicy
{
    /// <summary>Official behaviour (default): BatchNorm runs in train mode and updates its running statistics.</summary>
    UpdateRunningStatistics,

    /// <summary>BatchNorm layers run in eval mode during the search: the pre-trained statistics are used and kept.</summary>
    Freeze,

    /// <summary>
    /// Update during the search as the official code does, then reset the running statistics and re-estimate
    /// them with a cumulative average over one pass of the training data under the final mask.
    /// </summary>
    RecalibrateAfter,
}
