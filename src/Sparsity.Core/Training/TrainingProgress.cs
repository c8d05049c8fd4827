namespace Sparsity.Training;

/// <summary>A progress report of <see cref="Trainer"/> (plain numbers; no tensors).</summary>
/// <param name="Epoch">Current epoch, 1-based.</param>
/// <param name="Epochs">Total number of epochs.</param>
/// <param name="Batch">Batches finished in the current epoch.</param>
/// <param name="BatchCount">Batches per epoch.</param>
/// <param name="RunningLoss">Mean training loss of the current epoch so far.</param>
/// <param name="Completed">The epoch's record when the report marks the end of an epoch, else null.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, long Batch, long BatchCount, double RunningLoss, EpochRecord? Completed);
