using Sparsity.Training;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// Settings of a <see cref="MaskSearcher"/> run. Immutable; every property is validated when set, and the
/// exception names the property and the allowed range. Defaults follow the released Lottery Jackpots CIFAR
/// configs (docs/algorithms.md#released-hyperparameters): SGD lr 0.1, momentum 0.9, weight decay 5e-4 on the scores, per-epoch cosine
/// schedule, batch 256, BatchNorm statistics updating in train mode, short restriction with the official
/// schedule, official 1.0/0.99 score initialisation.
/// </summary>
public sealed record MaskSearchOptions
{
    private readonly int _epochs = 5;
    private readonly double _learningRate = 0.1;
    private readonly double _momentum = 0.9;
    private readonly double _weightDecay = 5e-4;
    private readonly int _batchSize = 256;
    private readonly int _evaluationBatchSize = 1000;
    private readonly IRestrictionPolicy _restriction = new ShortRestriction();
    private readonly IScoreInitializer _scoreInitializer = OfficialScoreInitializer.Instance;
    private readonly ParameterSelectorOptions _parameters = new() { KeepLastLayerDense = true };
    private readonly int _initializerBatches = 1;
    private readonly LearningRateSchedule _schedule = LearningRateSchedule.Cosine;
    private readonly int _progressInterval = 50;

    /// <summary>Number of search epochs (≥ 1). Default 5.</summary>
    public int Epochs
    {
        get => _epochs;
        init => _epochs = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Epochs), value, "Epochs must be at least 1.");
    }

    /// <summary>Initial learning rate of the scores (&gt; 0, finite). Default 0.1.</summary>
    public double LearningRate
    {
        get => _learningRate;
        init => _learningRate = value > 0 && double.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRate), value, "LearningRate must be a finite number > 0.");
    }

    /// <summary>SGD momentum of the scores, in [0, 1). Default 0.9 (no Nesterov, no dampening).</summary>
    public double Momentum
    {
        get => _momentum;
        init => _momentum = value >= 0 && value < 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(Momentum), value, "Momentum must lie in [0, 1).");
    }

    /// <summary>Weight decay applied to the scores (≥ 0, finite). Default 5e-4.</summary>
    public double WeightDecay
    {
        get => _weightDecay;
        init => _weightDecay = value >= 0 && double.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(WeightDecay), value, "WeightDecay must be a finite number ≥ 0.");
    }

    /// <summary>
    /// Learning-rate schedule over the epochs: <see cref="LearningRateSchedule.Cosine"/> (default; PyTorch
    /// <c>CosineAnnealingLR(T_max = epochs)</c> stepped per epoch, lr_e = lr·(1 + cos(π e/E))/2, as in the
    /// official configs) or <see cref="LearningRateSchedule.Constant"/>. Step decay is not offered here.
    /// </summary>
    public LearningRateSchedule Schedule
    {
        get => _schedule;
        init => _schedule = value is LearningRateSchedule.Cosine or LearningRateSchedule.Constant ? value
            : throw new ArgumentOutOfRangeException(nameof(Schedule), value, "Schedule must be Cosine or Constant for a mask search.");
    }

    /// <summary>Training batch size (≥ 1). Default 256.</summary>
    public int BatchSize
    {
        get => _batchSize;
        init => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "BatchSize must be at least 1.");
    }

    /// <summary>Evaluation batch size (≥ 1). Default 1000.</summary>
    public int EvaluationBatchSize
    {
        get => _evaluationBatchSize;
        init => _evaluationBatchSize = value >= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(EvaluationBatchSize), value, "EvaluationBatchSize must be at least 1.");
    }

    /// <summary>
    /// Seed of the run: epoch e shuffles the training data with seed <c>Seed·1000003 + e</c> and re-seeds the
    /// global TorchSharp RNG with the same value (for dropout), which is what makes <see cref="MaskSearcher.Resume"/> exact.
    /// </summary>
    public long Seed { get; init; }

    /// <summary>The device to search on; the model's device when null. A different device moves the model there.</summary>
    public Device? Device { get; init; }

    /// <summary>What happens to BatchNorm running statistics. Default <see cref="BatchNormPolicy.UpdateRunningStatistics"/> (official).</summary>
    public BatchNormPolicy BatchNorm { get; init; } = BatchNormPolicy.UpdateRunningStatistics;

    /// <summary>Evaluate top-1 accuracy on the test set after every epoch (when a test set is given). Default true.</summary>
    public bool EvaluateEveryEpoch { get; init; } = true;

    /// <summary>Folder for the per-epoch checkpoint (written atomically); none when null.</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>Which proposed swaps are carried out. Default <see cref="ShortRestriction"/> with the official schedule.</summary>
    public IRestrictionPolicy Restriction
    {
        get => _restriction;
        init => _restriction = value ?? throw new ArgumentNullException(nameof(Restriction), "Restriction must not be null; use NoRestriction.Instance for none.");
    }

    /// <summary>How starting scores are made from the initial mask. Default <see cref="OfficialScoreInitializer"/>.</summary>
    public IScoreInitializer ScoreInitializer
    {
        get => _scoreInitializer;
        init => _scoreInitializer = value ?? throw new ArgumentNullException(nameof(ScoreInitializer), "ScoreInitializer must not be null.");
    }

    /// <summary>
    /// Which weights are searched when the search starts from an <see cref="IMaskInitializer"/> (with an
    /// <see cref="InitialMask"/> the mask names them). Default: every Conv/Linear weight except the last layer
    /// (the classifier stays dense, as in Lottery Jackpots).
    /// </summary>
    public ParameterSelectorOptions Parameters
    {
        get => _parameters;
        init => _parameters = value ?? throw new ArgumentNullException(nameof(Parameters), "Parameters must not be null.");
    }

    /// <summary>Number of training batches (in stored order) handed to an <see cref="IMaskInitializer"/> (≥ 0). Default 1.</summary>
    public int InitializerBatches
    {
        get => _initializerBatches;
        init => _initializerBatches = value >= 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(InitializerBatches), value, "InitializerBatches must be ≥ 0.");
    }

    /// <summary>
    /// Positions every searched mask must honour (forced on / forced off, for example an ownership signature
    /// from <c>Sparsity.LotteryVerification</c>); none when null (default). At search start the constraint is
    /// checked against the searched weights (every named weight searched, every index inside it, at most the
    /// layer's kept count forced on and at least its kept count not forced off) and the initial mask is made to
    /// satisfy it with <see cref="MaskConstraint.Apply"/> (rebalanced by the initial scores, so every layer's
    /// kept count is unchanged). After every optimiser step the selection treats forced-on scores as +∞ and
    /// forced-off scores as −∞ (the stored scores are not changed), so the mask keeps every forced-on
    /// position, prunes every forced-off one, and among the free positions follows the top-(k − forced-on) of
    /// the scores under the same <see cref="Restriction"/>. A signed jackpot thus needs no weight retraining.
    /// </summary>
    public MaskConstraint? Constraint { get; init; }

    /// <summary>
    /// N:M semi-structured search (our extension of the jackpot search to the pattern of Mishra et al., arXiv:2104.08378):
    /// after every step each group of M consecutive scores along a layer's input dimension keeps its N highest
    /// (ties by lower flat index), so every group of the mask holds exactly N weights throughout. The initial mask
    /// must already follow the pattern in every layer it prunes (for example from <see cref="NMAllocation"/>);
    /// layers it keeps whole stay whole. A partial acceptance by the <see cref="Restriction"/> swaps whole
    /// within-group pairs. Null (default): the usual per-layer top-k. Cannot be combined with <see cref="Constraint"/>.
    /// </summary>
    public NMPattern? SemiStructured { get; init; }

    /// <summary>Training steps between two <see cref="SearchProgress"/> reports (≥ 1). Default 50.</summary>
    public int ProgressInterval
    {
        get => _progressInterval;
        init => _progressInterval = value >= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(ProgressInterval), value, "ProgressInterval must be at least 1.");
    }

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (0-based) under <see cref="Schedule"/>.</summary>
    /// <param name="epoch">The epoch, 0 ≤ epoch &lt; <see cref="Epochs"/>.</param>
    public double LearningRateAt(int epoch) => Schedule switch
    {
        LearningRateSchedule.Constant => LearningRate,
        _ => LearningRate * 0.5 * (1 + Math.Cos(Math.PI * epoch / Epochs)),
    };

    /// <summary>
    /// The settings that determine the trajectory of a run, as one string (recorded in checkpoints; a resume
    /// with different settings is refused).
    /// </summary>
    /// <remarks>With a <see cref="Constraint"/> the string ends with <c>;constraint=</c> and a SHA-256 of its forced positions.</remarks>
    public string Fingerprint() => FormattableString.Invariant(
        $"epochs={Epochs};lr={LearningRate:R};momentum={Momentum:R};wd={WeightDecay:R};schedule={Schedule};batch={BatchSize};seed={Seed};bn={BatchNorm};restriction={Restriction.Description}")
        + (Constraint is { } c ? ";constraint=" + ConstraintDigest(c) : string.Empty)
        + (SemiStructured is { } nm ? ";nm=" + nm : string.Empty);

    private static string ConstraintDigest(MaskConstraint constraint)
    {
        var text = new System.Text.StringBuilder();
        foreach (var name in constraint.Names.Order(StringComparer.Ordinal))
        {
            text.Append(name).Append("|on:").AppendJoin(',', constraint.ForcedOn(name)).Append("|off:").AppendJoin(',', constraint.ForcedOff(name)).Append('\n');
        }

        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    internal void Validate()
    {
        if (CheckpointFolder is { } f && string.IsNullOrWhiteSpace(f))
        {
            throw new ArgumentException("CheckpointFolder must be null or a folder path.", nameof(CheckpointFolder));
        }

        if (SemiStructured is not null && Constraint is not null)
        {
            throw new ArgumentException(
                "SemiStructured and Constraint cannot be combined (a constraint rebalances whole layers, which breaks N:M groups); set one of them.",
                nameof(SemiStructured));
        }
    }
}
