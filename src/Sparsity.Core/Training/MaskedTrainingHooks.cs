using static TorchSharp.torch;

namespace Sparsity.Training;

/// <summary>
/// Keeps pruned weights at zero during training (as in the lottery-ticket experiments, Frankle and Carbin
/// 2019): masks the gradients before each optimiser step (<see cref="MaskedModel.MaskGradients"/>) and
/// re-zeroes the pruned weights after it (<see cref="MaskedModel.Reapply"/>), so weight decay and momentum
/// cannot revive them.
/// </summary>
/// <param name="masked">The masked model; it must wrap the model handed to the trainer.</param>
public sealed class MaskedTrainingHooks(MaskedModel masked) : ITrainingStepHooks
{
    private readonly MaskedModel _masked = masked ?? throw new ArgumentNullException(nameof(masked));

    /// <inheritdoc/>
    public void BeforeOptimizerStep(nn.Module model, TrainingStep step) => _masked.MaskGradients();

    /// <inheritdoc/>
    public void AfterOptimizerStep(nn.Module model, TrainingStep step) => _masked.Reapply();
}
