using Sparsity.Search;

namespace Sparsity.Structured;

/// <summary>Options of <see cref="ChannelJackpotSearcher"/>.</summary>
public sealed record ChannelJackpotOptions
{
    /// <summary>Search epochs over the training set. Default 2; at least 1.</summary>
    public int Epochs { get; init; } = 2;

    /// <summary>SGD learning rate of the scores (cosine-annealed over the epochs). Default 0.1; &gt; 0.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>SGD momentum. Default 0.9; in [0, 1).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Mini-batch size. Default 128; at least 1.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Which swaps a step accepts, per group; default the short restriction with the official schedule
    /// (<see cref="ShortRestriction"/>, Zhang et al. 2023).</summary>
    public IRestrictionPolicy Restriction { get; init; } = new ShortRestriction();

    /// <summary>Shuffle seed. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// What BatchNorm does during the search. <see cref="BatchNormPolicy.RecalibrateAfter"/> (default): the layers
    /// normalise with each batch's statistics, as the official code and fine-tuning do, and after the search the
    /// running statistics are re-estimated over one pass of the data under the final mask, so that they describe
    /// the compacted model. <see cref="BatchNormPolicy.UpdateRunningStatistics"/>: the same without the final pass
    /// (the running statistics follow the changing mask, momentum 0.1). <see cref="BatchNormPolicy.Freeze"/>: the
    /// layers normalise with the pre-trained running statistics, which are left bit-identical. The other modules
    /// stay in eval mode in every case (no dropout); γ and β are never trained. On ResNet-20 at 50 % the default
    /// found masks that fine-tuned better than L1's, where Freeze's did not (docs/structured.md).
    /// </summary>
    public BatchNormPolicy BatchNorm { get; init; } = BatchNormPolicy.RecalibrateAfter;

    /// <summary>Steps per epoch at most (0 = the whole training set); for smoke runs. Default 0.</summary>
    public int MaxStepsPerEpoch { get; init; }

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The option named in the message.</exception>
    public void Validate()
    {
        if (Epochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1.");
        }

        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be a finite number > 0.");
        }

        if (!(Momentum >= 0 && Momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "Momentum must lie in [0, 1).");
        }

        if (BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        }

        if (MaxStepsPerEpoch < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxStepsPerEpoch), MaxStepsPerEpoch, "MaxStepsPerEpoch must be 0 (all) or positive.");
        }

        ArgumentNullException.ThrowIfNull(Restriction, nameof(Restriction));
        if (!Enum.IsDefined(BatchNorm))
        {
            throw new ArgumentOutOfRangeException(nameof(BatchNorm), BatchNorm, "BatchNorm must be Freeze, UpdateRunningStatistics or RecalibrateAfter.");
        }
    }
}
