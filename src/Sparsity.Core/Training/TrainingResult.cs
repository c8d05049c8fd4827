namespace Sparsity.Training;

/// <summary>The outcome of <see cref="Trainer.Train"/> or <see cref="Trainer.Resume"/>.</summary>
/// <param name="Epochs">One record per epoch, including epochs restored from a checkpoint.</param>
/// <param name="CheckpointPath">The last checkpoint written, or null when no checkpoint folder was set.</param>
public sealed record TrainingResult(IReadOnlyList<EpochRecord> Epochs, string? CheckpointPath)
{
    /// <summary>Test accuracy (percent) after the last epoch, or null without a test set.</summary>
    public double? FinalTestAccuracy => Epochs.Count == 0 ? null : Epochs[^1].TestAccuracy;

    /// <summary>Training seconds of each epoch.</summary>
    public IReadOnlyList<double> SecondsPerEpoch => Epochs.Select(e => e.Seconds).ToArray();
}
