using System.Globalization;
using static TorchSharp.torch;

namespace Sparsity.Training;

/// <summary>
/// Hyper-parameters of <see cref="Trainer"/>: SGD with momentum (PyTorch semantics, TorchSharp
/// <c>optim.SGD</c>), weight decay as an L2 term added to the gradient, an epoch-stepped learning-rate
/// schedule, a seed, a device and an optional checkpoint folder. Validated by <see cref="Validate"/>.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>
    /// The reference recipe every figure of this project uses (issue 3): SGD, momentum 0.9, learning rate
    /// 0.1 with cosine annealing stepped per epoch, weight decay 5e-4, batch 128, seed 0, 10 epochs, no
    /// augmentation, no Nesterov.
    /// </summary>
    public static TrainingOptions ReferenceRecipe { get; } = new();

    /// <summary>Number of epochs (1 … 100,000). Default 10.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Mini-batch size (1 … 1,000,000). Default 128. The last, smaller batch of an epoch is kept.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Base learning rate (&gt; 0, finite). Default 0.1.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>Momentum factor in [0, 1). Default 0.9.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay (≥ 0, finite), applied to every parameter. Default 5e-4.</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Nesterov momentum (Sutskever et al. 2013), requires <see cref="Momentum"/> &gt; 0. Default false.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Learning-rate schedule. Default <see cref="LearningRateSchedule.Cosine"/>.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;

    /// <summary>Epochs between decays for <see cref="LearningRateSchedule.Step"/> (≥ 1). Default 30.</summary>
    public int StepEpochs { get; init; } = 30;

    /// <summary>Decay factor γ for <see cref="LearningRateSchedule.Step"/>, in (0, 1]. Default 0.1.</summary>
    public double StepGamma { get; init; } = 0.1;

    /// <summary>
    /// Seed of the per-epoch shuffles and of the global TorchSharp generator at the start of each epoch
    /// (dropout and other random layers). Default 0. Model initialisation is the caller's business.
    /// </summary>
    public long Seed { get; init; }

    /// <summary>Device to train on; null means the device of the model's parameters.</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// Folder for <see cref="TrainingCheckpoint.FileName"/>, written atomically before the first epoch and
    /// after every epoch; null for no checkpoints.
    /// </summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Checks every option; the exception names the option and the allowed range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (Epochs is < 1 or > 100_000)
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must lie in [1, 100000].");
        if (BatchSize is < 1 or > 1_000_000)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must lie in [1, 1000000].");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be finite and > 0.");
        if (!double.IsFinite(Momentum) || Momentum is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "Momentum must lie in [0, 1).");
        if (!double.IsFinite(WeightDecay) || WeightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be finite and ≥ 0.");
        if (Nesterov && Momentum == 0)
            throw new ArgumentOutOfRangeException(nameof(Nesterov), Nesterov, "Nesterov momentum needs Momentum > 0.");
        if (!Enum.IsDefined(Schedule))
            throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, "Schedule must be Constant, Cosine or Step.");
        if (StepEpochs < 1)
            throw new ArgumentOutOfRangeException(nameof(StepEpochs), StepEpochs, "StepEpochs must be ≥ 1.");
        if (!double.IsFinite(StepGamma) || StepGamma is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(StepGamma), StepGamma, "StepGamma must lie in (0, 1].");
        if (Seed < 0)
            throw new ArgumentOutOfRangeException(nameof(Seed), Seed, "Seed must be ≥ 0.");
        if (CheckpointFolder is { } folder && string.IsNullOrWhiteSpace(folder))
            throw new ArgumentOutOfRangeException(nameof(CheckpointFolder), folder, "CheckpointFolder must be null or a folder path.");
    }

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (0-based) under <see cref="Schedule"/>.</summary>
    /// <param name="epoch">Epoch index in [0, <see cref="Epochs"/>).</param>
    public double LearningRateAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(epoch, Epochs);
        return Schedule switch
        {
            LearningRateSchedule.Cosine => LearningRate * (1 + Math.Cos(Math.PI * epoch / Epochs)) / 2,
            LearningRateSchedule.Step => LearningRate * Math.Pow(StepGamma, epoch / StepEpochs),
            _ => LearningRate,
        };
    }

    /// <summary>
    /// A canonical text of everything that determines the trained weights (all options but
    /// <see cref="Device"/> and <see cref="CheckpointFolder"/>), used to key caches and to check that a
    /// checkpoint is resumed with the options it was written with.
    /// </summary>
    public string Fingerprint() => string.Create(CultureInfo.InvariantCulture,
        $"sgd;epochs={Epochs};batch={BatchSize};lr={LearningRate:R};momentum={Momentum:R};wd={WeightDecay:R};nesterov={Nesterov};" +
        $"schedule={Schedule};step={StepEpochs};gamma={StepGamma:R};seed={Seed}");

    /// <summary>The seed of epoch <paramref name="epoch"/>'s shuffle and global generator: a fixed function of (<see cref="Seed"/>, epoch).</summary>
    /// <param name="epoch">Epoch index (0-based).</param>
    public long EpochSeed(int epoch) => unchecked((Seed * 1_000_003L + epoch + 1) & long.MaxValue);
}
