namespace Sparsity.Training;

/// <summary>What one training epoch produced.</summary>
/// <param name="Epoch">Epoch number, 1-based.</param>
/// <param name="LearningRate">Learning rate used during the epoch.</param>
/// <param name="Loss">Mean cross-entropy over the epoch's training batches (weights changing during the epoch).</param>
/// <param name="TrainAccuracy">Top-1 accuracy (percent) on the training batches as they were trained on.</param>
/// <param name="TestAccuracy">Top-1 accuracy (percent) on the test set after the epoch, or null without a test set.</param>
/// <param name="TestLoss">Mean cross-entropy on the test set after the epoch, or null without a test set.</param>
/// <param name="Seconds">Wall-clock seconds of the training pass only (evaluation and checkpointing excluded).</param>
public sealed record EpochRecord(int Epoch, double LearningRate, double Loss, double TrainAccuracy, double? TestAccuracy, double? TestLoss, double Seconds);
