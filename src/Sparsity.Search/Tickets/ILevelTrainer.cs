using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>
/// The training seam of iterative pruning: trains a model (optionally through a fixed mask) for a segment
/// of one learning-rate schedule and reports the test accuracy after every epoch. The library's trainer
/// plugs in through an adapter; tests inject scripted implementations.
/// </summary>
/// <remarks>
/// Contract: the outcome must be a deterministic function of the model's state and the request (draw the
/// data order from a seed and the schedule epoch, never from the global RNG), so that a resumed run equals
/// an uninterrupted one. With <see cref="LevelTrainingRequest.Masks"/> set, call
/// <see cref="MaskedModel.MaskGradients"/> before and <see cref="MaskedModel.Reapply"/> after every
/// optimiser step, so pruned weights stay at exactly 0.0 whatever the optimiser does. Use a fresh optimiser
/// per call (open_lth does: rewinding restores weights, not momentum buffers).
/// </remarks>
public interface ILevelTrainer
{
    /// <summary>Length of the full learning-rate schedule, in epochs (≥ 1).</summary>
    int Epochs { get; }

    /// <summary>Optimiser steps per epoch (≥ 1).</summary>
    long StepsPerEpoch { get; }

    /// <summary>
    /// Whether <see cref="LevelTrainingRequest.StartStep"/> may fall inside an epoch. Trainers whose schedule
    /// and data order are per epoch return false; step rewinding then has to land on an epoch boundary.
    /// </summary>
    bool CanStartMidEpoch { get; }

    /// <summary>Trains <see cref="LevelTrainingRequest.Model"/> in place for the requested segment.</summary>
    /// <param name="request">What to train and where in the schedule.</param>
    /// <param name="cancellationToken">Checked at least once per epoch.</param>
    /// <returns>One record per epoch trained, and the time spent.</returns>
    LevelTrainingResult Train(LevelTrainingRequest request, CancellationToken cancellationToken = default);
}

/// <summary>One segment of training asked of an <see cref="ILevelTrainer"/>.</summary>
public sealed record LevelTrainingRequest
{
    /// <summary>The model, trained in place.</summary>
    public required nn.Module Model { get; init; }

    /// <summary>The mask binding; when set, mask gradients before and re-apply masks after every step.</summary>
    public MaskedModel? Masks { get; init; }

    /// <summary>Schedule position (completed steps) of the first step; sets the learning rate and the epoch numbering.</summary>
    public long StartStep { get; init; }

    /// <summary>Number of optimiser steps to take.</summary>
    public long StepCount { get; init; }

    /// <summary>When true the learning rate stays at its value at <see cref="StartStep"/> (fine-tuning).</summary>
    public bool HoldLearningRate { get; init; }

    /// <summary>Called after every step with the number of schedule steps completed (used to capture late-rewind weights).</summary>
    public Action<long>? AfterStep { get; init; }

    /// <summary>Called after every epoch with its record (progress reporting).</summary>
    public Action<EpochResult>? AfterEpoch { get; init; }
}

/// <summary>Test accuracy after one epoch.</summary>
/// <param name="Epoch">Schedule epoch (1-based: the epoch that just ended).</param>
/// <param name="TestAccuracy">Top-1 test accuracy in percent (as the library's Evaluator reports it).</param>
/// <param name="Seconds">Seconds of the epoch's training pass (evaluation excluded where the trainer can tell).</param>
/// <param name="LearningRate">The learning rate of the epoch, when the trainer reports it.</param>
public sealed record EpochResult(int Epoch, double TestAccuracy, double Seconds, double? LearningRate = null);

/// <summary>What an <see cref="ILevelTrainer"/> returns.</summary>
/// <param name="Epochs">One record per epoch trained, in order.</param>
/// <param name="Seconds">Wall-clock seconds of the whole segment.</param>
public sealed record LevelTrainingResult(IReadOnlyList<EpochResult> Epochs, double Seconds)
{
    /// <summary>Test accuracy after the last epoch (NaN when no epoch was trained).</summary>
    public double FinalAccuracy => Epochs.Count == 0 ? double.NaN : Epochs[^1].TestAccuracy;
}
