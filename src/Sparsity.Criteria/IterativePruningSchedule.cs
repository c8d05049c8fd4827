namespace Sparsity.Criteria;

/// <summary>
/// The sparsity after each of n pruning rounds towards a target density d = 1 − s, as used by SynFlow's
/// iterative pruning (Tanaka et al. 2020, Alg. 1; Synaptic-Flow <c>prune.prune_loop</c>) and by iterative
/// magnitude pruning: exponential d_k = d^(k/n) or linear d_k = 1 − (1 − d)·k/n, k = 1…n. Round n always
/// reaches the target exactly.
/// </summary>
public sealed record IterativePruningSchedule
{
    private readonly int _rounds = 1;

    /// <summary>Number of rounds n ≥ 1. Default 1 (single shot).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int Rounds
    {
        get => _rounds;
        init
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(Rounds), value, "Rounds is the number of pruning rounds; use 1 or more.");
            }

            _rounds = value;
        }
    }

    /// <summary>Exponential (default) or linear decay of the density.</summary>
    public PruningScheduleKind Kind { get; init; } = PruningScheduleKind.Exponential;

    /// <summary>The sparsity after round <paramref name="round"/> (1-based) of a schedule ending at <paramref name="targetSparsity"/>.</summary>
    /// <param name="round">Round k, 1 ≤ k ≤ <see cref="Rounds"/>.</param>
    /// <param name="targetSparsity">Final sparsity s in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value outside its range.</exception>
    public double SparsityAfter(int round, double targetSparsity)
    {
        SparsityBudget.Validate(targetSparsity, nameof(targetSparsity));
        if (round < 1 || round > Rounds)
        {
            throw new ArgumentOutOfRangeException(nameof(round), round, $"Rounds are numbered 1 to {Rounds}.");
        }

        if (round == Rounds)
        {
            return targetSparsity;
        }

        var density = 1.0 - targetSparsity;
        var fraction = (double)round / Rounds;
        var d = Kind == PruningScheduleKind.Exponential ? Math.Pow(density, fraction) : 1.0 - ((1.0 - density) * fraction);
        return Math.Clamp(1.0 - d, 0.0, targetSparsity);
    }

    /// <summary>The sparsity after every round, in order (the last one is <paramref name="targetSparsity"/>).</summary>
    /// <param name="targetSparsity">Final sparsity s in [0, 1).</param>
    public IReadOnlyList<double> Sparsities(double targetSparsity) =>
        Enumerable.Range(1, Rounds).Select(k => SparsityAfter(k, targetSparsity)).ToList();
}
