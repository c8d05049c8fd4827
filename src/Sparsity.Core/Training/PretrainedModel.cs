using static TorchSharp.torch;

namespace Sparsity.Training;

/// <summary>A trained model returned by <see cref="Pretrained"/>.GetOrTrain.</summary>
/// <param name="Model">The trained model, in eval mode, on the recipe's device (owned by the caller).</param>
/// <param name="ModelName">The name it is cached under.</param>
/// <param name="DataSource">The data source it was trained on (for example <c>fashion-mnist-full</c>).</param>
/// <param name="Epochs">The per-epoch records of the training run (also when read from the cache).</param>
/// <param name="Path">The cached safetensors file (plain state dict plus metadata; <c>StateDict.Load</c> reads it).</param>
/// <param name="FromCache">Whether the weights were read from the cache instead of trained now.</param>
public sealed record PretrainedModel(nn.Module<Tensor, Tensor> Model, string ModelName, string DataSource, IReadOnlyList<EpochRecord> Epochs, string Path, bool FromCache)
{
    /// <summary>Dense top-1 test accuracy (percent) after the last epoch.</summary>
    public double TestAccuracy => Epochs[^1].TestAccuracy ?? double.NaN;

    /// <summary>Training seconds of each epoch of the run that produced the weights.</summary>
    public IReadOnlyList<double> SecondsPerEpoch => Epochs.Select(e => e.Seconds).ToArray();
}
