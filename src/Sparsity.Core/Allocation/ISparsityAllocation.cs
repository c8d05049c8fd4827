namespace Sparsity;

/// <summary>
/// Turns a <see cref="ScoreSet"/> and a target sparsity into a <see cref="MaskSet"/> that keeps the
/// highest-scoring weights. Implementations keep an exact number of weights (see
/// <see cref="SparsityBudget.KeptCount"/>; the library's allocations take the <see cref="KeptCountRounding"/>
/// as a constructor argument, PyTorch's rule by default) and break ties deterministically: by score, then by flat index
/// (lower index kept first).
/// </summary>
public interface ISparsityAllocation
{
    /// <summary>A short name for logs and reports ("global", "layer-wise", "erk").</summary>
    string Name { get; }

    /// <summary>How many weights each layer keeps, without looking at score values (shapes only).</summary>
    /// <param name="scores">The scores (only names and shapes are read, except by global allocation).</param>
    /// <param name="sparsity">Fraction of the prunable weights to remove, in [0, 1).</param>
    /// <returns>Kept count per layer name, in layer order.</returns>
    IReadOnlyDictionary<string, long> KeptCounts(ScoreSet scores, double sparsity);

    /// <summary>Builds the mask set; masks live on the scores' device.</summary>
    /// <param name="scores">Scores, higher = keep.</param>
    /// <param name="sparsity">Fraction of the prunable weights to remove, in [0, 1).</param>
    /// <returns>A new mask set owned by the caller.</returns>
    MaskSet Allocate(ScoreSet scores, double sparsity);
}
