namespace Sparsity.Criteria;

/// <summary>How the density falls from 1 to the target over the rounds of an <see cref="IterativePruningSchedule"/>.</summary>
public enum PruningScheduleKind
{
    /// <summary>d_k = d^(k/n): the same fraction of the remaining weights is removed every round (SynFlow's default, IMP).</summary>
    Exponential,

    /// <summary>d_k = 1 − (1 − d)·k/n: the same number of weights is removed every round.</summary>
    Linear,
}
