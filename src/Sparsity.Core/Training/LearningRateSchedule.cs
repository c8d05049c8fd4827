namespace Sparsity.Training;

/// <summary>How the learning rate changes from epoch to epoch (it is constant within an epoch).</summary>
public enum LearningRateSchedule
{
    /// <summary>The base learning rate throughout.</summary>
    Constant,

    /// <summary>
    /// Cosine annealing to zero stepped per epoch (Loshchilov and Hutter 2017, SGDR, eq. 5 without restarts;
    /// PyTorch <c>CosineAnnealingLR(T_max = epochs, eta_min = 0)</c> stepped once per epoch):
    /// lr(e) = lr · (1 + cos(π e / E)) / 2 for epoch e = 0 … E−1.
    /// </summary>
    Cosine,

    /// <summary>Step decay (PyTorch <c>StepLR</c>): lr(e) = lr · γ^⌊e / step⌋.</summary>
    Step,
}
