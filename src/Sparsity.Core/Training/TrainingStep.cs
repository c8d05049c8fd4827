namespace Sparsity.Training;

/// <summary>Where the training loop is when it calls an <see cref="ITrainingStepHooks"/> method.</summary>
/// <param name="Epoch">Epoch, 1-based.</param>
/// <param name="BatchInEpoch">Batch index within the epoch, 0-based.</param>
/// <param name="Iteration">Optimiser steps taken before this one since training began (0-based, counts across epochs and resumes).</param>
public readonly record struct TrainingStep(int Epoch, long BatchInEpoch, long Iteration);
