namespace Sparsity.Search.Tickets;

/// <summary>What is being trained.</summary>
public enum TicketPhase
{
    /// <summary>The dense run (level 0).</summary>
    Dense,

    /// <summary>The ticket of a level.</summary>
    Ticket,

    /// <summary>The reinitialisation control.</summary>
    Reinitialized,

    /// <summary>The random-mask control.</summary>
    RandomMask,
}

/// <summary>Progress of an <see cref="IterativeMagnitudePruning"/> run, reported after every epoch.</summary>
/// <param name="Level">Pruning level (0 = dense).</param>
/// <param name="Phase">What is being trained.</param>
/// <param name="Fraction">Fraction pruned at this level.</param>
/// <param name="Density">Kept fraction of the prunable weights.</param>
/// <param name="Epoch">Epoch just finished (schedule epoch, 1-based).</param>
/// <param name="TestAccuracy">Test accuracy (percent) after that epoch.</param>
/// <param name="EpochIndex">Epochs finished in this segment (1-based).</param>
/// <param name="EpochCount">Epochs in this segment.</param>
public sealed record IterativeMagnitudePruningProgress(
    int Level, TicketPhase Phase, double Fraction, double Density, int Epoch, double TestAccuracy, int EpochIndex, int EpochCount);

/// <summary>Why a run stopped.</summary>
public enum StopReason
{
    /// <summary>All <see cref="IterativeMagnitudePruningOptions.Levels"/> levels were kept.</summary>
    LevelsDone,

    /// <summary><see cref="IterativeMagnitudePruningOptions.TargetSparsity"/> was reached.</summary>
    TargetReached,

    /// <summary>A level failed at the last fraction of the rate ladder.</summary>
    LadderExhausted,

    /// <summary>No further weight can be pruned (every layer is down to its last weight).</summary>
    NothingLeft,
}

/// <summary>The outcome of an <see cref="IterativeMagnitudePruning"/> run. Owns <see cref="Mask"/>.</summary>
public sealed class IterativeMagnitudePruningResult : IDisposable
{
    /// <summary>Creates a result (takes ownership of <paramref name="mask"/>).</summary>
    /// <param name="history">Every level record, undone ones included, in order.</param>
    /// <param name="mask">The last kept level's mask.</param>
    /// <param name="stopReason">Why the run stopped.</param>
    public IterativeMagnitudePruningResult(IReadOnlyList<LevelRecord> history, MaskSet mask, StopReason stopReason)
    {
        History = history;
        Mask = mask;
        StopReason = stopReason;
    }

    /// <summary>Every level, in order: the dense run, kept levels and levels undone by the ladder.</summary>
    public IReadOnlyList<LevelRecord> History { get; }

    /// <summary>The dense run and the kept levels, in order.</summary>
    public IReadOnlyList<LevelRecord> Levels => History.Where(r => r.Accepted).ToList();

    /// <summary>Test accuracy (percent) of the dense run.</summary>
    public double DenseAccuracy => History[0].TestAccuracy;

    /// <summary>Training seconds of the dense run.</summary>
    public double DenseSeconds => History[0].Seconds;

    /// <summary>The last kept level (the extreme ticket when the ladder ran).</summary>
    public LevelRecord Final => History.Last(r => r.Accepted);

    /// <summary>The final ticket's mask; the model holds the final ticket's trained weights.</summary>
    public MaskSet Mask { get; }

    /// <summary>Why the run stopped.</summary>
    public StopReason StopReason { get; }

    /// <summary>Disposes <see cref="Mask"/>.</summary>
    public void Dispose() => Mask.Dispose();
}
