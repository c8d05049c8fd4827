namespace Sparsity.Search.Tickets;

/// <summary>One control run (reinitialisation or random mask) at a level.</summary>
/// <param name="Seed">The seed it used.</param>
/// <param name="TestAccuracy">Test accuracy (percent) after its last epoch.</param>
/// <param name="Epochs">Its per-epoch test accuracies.</param>
/// <param name="Seconds">Its training time.</param>
public sealed record ControlRecord(long Seed, double TestAccuracy, IReadOnlyList<EpochResult> Epochs, double Seconds);

/// <summary>
/// One level of iterative pruning (level 0 is the dense run). A level undone by the rate ladder is kept
/// in the history with <see cref="Accepted"/> false.
/// </summary>
public sealed record LevelRecord
{
    /// <summary>Pruning level: 0 = dense, then 1, 2, … (an undone attempt shares the number of its retry).</summary>
    public required int Level { get; init; }

    /// <summary>Fraction of the remaining weights pruned at this level (0 for the dense run).</summary>
    public required double Fraction { get; init; }

    /// <summary>False when the rate ladder undid this level.</summary>
    public required bool Accepted { get; init; }

    /// <summary>Kept prunable weights.</summary>
    public required long KeptCount { get; init; }

    /// <summary>All prunable weights.</summary>
    public required long TotalCount { get; init; }

    /// <summary>Kept fraction of the prunable weights.</summary>
    public double Density => TotalCount == 0 ? 1.0 : (double)KeptCount / TotalCount;

    /// <summary>Kept and total counts per pruned layer, in layer order.</summary>
    public required IReadOnlyList<LayerDensity> Layers { get; init; }

    /// <summary>Test accuracy after every epoch of the level's training.</summary>
    public required IReadOnlyList<EpochResult> Epochs { get; init; }

    /// <summary>Test accuracy (percent) after the level's last epoch.</summary>
    public required double TestAccuracy { get; init; }

    /// <summary>Seconds of the ticket's own training at this level (controls excluded).</summary>
    public required double Seconds { get; init; }

    /// <summary>The reinitialisation control, when it ran at this level.</summary>
    public ControlRecord? Reinitialized { get; init; }

    /// <summary>The random-mask control, when it ran at this level.</summary>
    public ControlRecord? RandomMask { get; init; }

    /// <summary>File name of the level's ticket checkpoint (relative to the checkpoint folder), when written.</summary>
    public string? TicketFile { get; init; }
}
