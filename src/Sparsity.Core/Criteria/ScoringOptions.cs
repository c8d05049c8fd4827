namespace Sparsity;

/// <summary>
/// What a criterion may need to know about the pruning it serves. Single-shot criteria (magnitude,
/// SNIP, GraSP, random) ignore it; iterative ones (SynFlow) prune towards <see cref="TargetSparsity"/>
/// with <see cref="Allocation"/> between rounds.
/// </summary>
public sealed record ScoringOptions
{
    private readonly double _targetSparsity;

    /// <summary>The sparsity the scores will be cut at, in [0, 1). Default 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1).</exception>
    public double TargetSparsity
    {
        get => _targetSparsity;
        init
        {
            if (!(value >= 0.0 && value < 1.0))
                throw new ArgumentOutOfRangeException(nameof(TargetSparsity), value,
                    "TargetSparsity is the fraction of prunable weights removed; use a value in [0, 1).");
            _targetSparsity = value;
        }
    }

    /// <summary>How intermediate masks of an iterative criterion are allocated; global when null.</summary>
    public ISparsityAllocation? Allocation { get; init; }
}
