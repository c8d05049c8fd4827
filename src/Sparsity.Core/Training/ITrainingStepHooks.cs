using static TorchSharp.torch;

namespace Sparsity.Training;

/// <summary>
/// Code run around every optimiser step of <see cref="Trainer"/>, so that masked or otherwise constrained
/// training reuses the one training loop. <see cref="MaskedTrainingHooks"/> is the masked-training case.
/// </summary>
public interface ITrainingStepHooks
{
    /// <summary>Called after <c>backward()</c> and before <c>optimizer.step()</c> (gradients are populated).</summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="step">Where the loop is.</param>
    void BeforeOptimizerStep(nn.Module model, TrainingStep step);

    /// <summary>Called right after <c>optimizer.step()</c>.</summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="step">Where the loop is.</param>
    void AfterOptimizerStep(nn.Module model, TrainingStep step);
}
