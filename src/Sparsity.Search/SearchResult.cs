namespace Sparsity.Search;

/// <summary>One epoch of a search.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="LearningRate">The scores' learning rate in this epoch.</param>
/// <param name="TrainLoss">Mean cross-entropy over the epoch's training batches (train mode, masked forward).</param>
/// <param name="TestAccuracy">Top-1 test accuracy in percent after the epoch, or null when not evaluated.</param>
/// <param name="FlipsAccepted">Mask positions changed in the epoch (each accepted swap changes two).</param>
/// <param name="FlipsRefused">Proposed position changes the restriction refused.</param>
/// <param name="OverlapWithInitial">|M_init ∧ M| / |M| over the searched layers after the epoch.</param>
/// <param name="Seconds">Wall-clock seconds of the epoch's training steps (evaluation and checkpoint excluded).</param>
/// <param name="Steps">Optimiser steps in the epoch.</param>
public sealed record SearchEpoch(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    double? TestAccuracy,
    long FlipsAccepted,
    long FlipsRefused,
    double OverlapWithInitial,
    double Seconds,
    long Steps);

/// <summary>A progress report of a running search.</summary>
/// <param name="Epoch">1-based epoch being run.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">Steps done in this epoch.</param>
/// <param name="StepsPerEpoch">Steps per epoch.</param>
/// <param name="TrainLoss">Mean training loss of this epoch so far.</param>
/// <param name="Completed">The epoch's summary when the epoch just finished; null during an epoch.</param>
public sealed record SearchProgress(int Epoch, int Epochs, long Step, long StepsPerEpoch, double TrainLoss, SearchEpoch? Completed);

/// <summary>The outcome of a mask search. Owns <see cref="Masks"/>, <see cref="Scores"/> and <see cref="InitialMasks"/>.</summary>
public sealed class SearchResult : IDisposable
{
    internal SearchResult(MaskSet masks, ScoreSet scores, MaskSet initialMasks, IReadOnlyList<SearchEpoch> history,
        MaskSearchOptions options, double? finalTestAccuracy, SelectionStatistics selection)
    {
        Masks = masks;
        Scores = scores;
        InitialMasks = initialMasks;
        History = history;
        Options = options;
        FinalTestAccuracy = finalTestAccuracy;
        Selection = selection;
    }

    /// <summary>The searched mask (same kept count per layer as the initial mask).</summary>
    public MaskSet Masks { get; }

    /// <summary>The final scores.</summary>
    public ScoreSet Scores { get; }

    /// <summary>The mask the search started from (with <see cref="MaskSearchOptions.Constraint"/>: the initial mask after <see cref="MaskConstraint.Apply"/>).</summary>
    public MaskSet InitialMasks { get; }

    /// <summary>Per-epoch history, in order (including epochs run before a resume).</summary>
    public IReadOnlyList<SearchEpoch> History { get; }

    /// <summary>The options used.</summary>
    public MaskSearchOptions Options { get; }

    /// <summary>
    /// Top-1 test accuracy (percent) of the final mask as the model stands after the search (after
    /// recalibration under <see cref="BatchNormPolicy.RecalibrateAfter"/>); null without a test set.
    /// </summary>
    public double? FinalTestAccuracy { get; }

    /// <summary>How the per-step selections were answered (cost diagnostics).</summary>
    public SelectionStatistics Selection { get; }

    /// <summary>|M_init ∧ M_final| / |M_final| over the searched layers.</summary>
    public double OverlapWithInitial => MaskSearcher.Overlap(InitialMasks, Masks);

    /// <summary>Disposes the mask and score sets.</summary>
    public void Dispose()
    {
        Masks.Dispose();
        Scores.Dispose();
        InitialMasks.Dispose();
    }
}

/// <summary>How the incremental threshold answered the per-layer selections of a run (summed over layers).</summary>
/// <param name="CountHits">Selections answered by one comparison-and-count pass.</param>
/// <param name="BandHits">Selections answered from a band of candidates near the previous threshold.</param>
/// <param name="ExactSelections">Selections that needed an exact <c>kthvalue</c> over the layer.</param>
public sealed record SelectionStatistics(long CountHits, long BandHits, long ExactSelections);
