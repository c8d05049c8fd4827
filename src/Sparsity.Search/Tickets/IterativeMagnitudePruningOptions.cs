using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>
/// Options of <see cref="IterativeMagnitudePruning"/> (lottery tickets by iterative magnitude pruning with rewinding;
/// Frankle &amp; Carbin, ICLR 2019; Frankle et al., ICML 2020; Renda et al., ICLR 2020). Immutable; validated
/// when a run starts, with an exception that names the option.
/// </summary>
public sealed record IterativeMagnitudePruningOptions
{
    /// <summary>
    /// Fraction of the <em>remaining</em> prunable weights pruned per level, in (0, 1). Default 0.2: a level
    /// prunes exactly ⌈0.2 · remaining⌉ weights (PyTorch pruning-container semantics).
    /// </summary>
    public double FractionPerLevel { get; init; } = 0.2;

    /// <summary>Number of pruning levels after the dense run (≥ 1). Default 15 (density 0.8¹⁵ ≈ 3.5 %). Ignored when <see cref="TargetSparsity"/> is set.</summary>
    public int Levels { get; init; } = 15;

    /// <summary>
    /// Stop once this sparsity is reached instead of after <see cref="Levels"/> levels, in (0, 1); the last
    /// level prunes only what is needed to land exactly on <see cref="SparsityBudget.KeptCount"/>. Default null.
    /// </summary>
    public double? TargetSparsity { get; init; }

    /// <summary>
    /// The criterion that scores the surviving weights after each level (higher = keep); weights already
    /// pruned are excluded from re-scoring. Default (null): <see cref="Sparsity.Criteria.MagnitudeCriterion"/>, |W|.
    /// </summary>
    public IPruningCriterion? Criterion { get; init; }

    /// <summary>
    /// How scores become a mask. Default (null) global: one threshold over all pruned parameters, so a level
    /// removes exactly ⌈f · remaining⌉ weights. With <see cref="LayerWiseAllocation"/> every layer prunes
    /// ⌈f · remaining in the layer⌉ of its own weights (the LTH paper's LeNet setting; see
    /// <see cref="OutputLayerFraction"/>). Other allocations get the overall sparsity of the level. With
    /// <see cref="NMAllocation"/> level 1 prunes straight to the N:M pattern (the pattern fixes the sparsity) and the
    /// run then stops with <see cref="StopReason.NothingLeft"/>: N:M iterative magnitude pruning is one level of
    /// prune-and-rewind (the random-mask control draws N random weights per group).
    /// </summary>
    public ISparsityAllocation? Allocation { get; init; }

    /// <summary>
    /// With <see cref="LayerWiseAllocation"/> only: the fraction of the output layer's remaining weights pruned
    /// per level (the LTH paper prunes LeNet's output layer at half the rate, 0.1). The output layer must then
    /// be prunable (set <see cref="Parameters"/> without <c>KeepLastLayerDense</c>). Default null: same as
    /// <see cref="FractionPerLevel"/>.
    /// </summary>
    public double? OutputLayerFraction { get; init; }

    /// <summary>
    /// Which weights are pruned; the others stay dense (trained, never masked). Default: every Conv/Linear
    /// weight except the output layer (open_lth's <c>pruning_layers_to_ignore</c> = the classifier).
    /// </summary>
    public ParameterSelectorOptions Parameters { get; init; } = new() { KeepLastLayerDense = true };

    /// <summary>Where surviving weights restart at each level. Default <see cref="RewindPoint.Initialization"/>.</summary>
    public RewindPoint Rewind { get; init; } = RewindPoint.Initialization;

    /// <summary>Epochs trained per level when fine-tuning (<see cref="RewindKind.FineTune"/>); null = the schedule's length.</summary>
    public int? FineTuneEpochs { get; init; }

    /// <summary>
    /// The NO-stealing-LTH rate ladder: smaller fractions tried, in order, after a level falls more than
    /// <see cref="LadderTolerance"/> below the dense accuracy (that level is undone). Strictly decreasing,
    /// each below <see cref="FractionPerLevel"/>; for example [0.1, 0.05, 0.01] after 0.2. The run stops when
    /// a level fails at the last rung. Null (default) disables the rule: every level is kept.
    /// </summary>
    public IReadOnlyList<double>? RateLadder { get; init; }

    /// <summary>How many accuracy points (percent) a level may fall below the dense accuracy and still be kept. Default 1.0 (the extreme-ticket rule: gap ≤ 1 %).</summary>
    public double LadderTolerance { get; init; } = 1.0;

    /// <summary>Data for data-dependent criteria (SNIP, GraSP); required when the criterion says <see cref="IPruningCriterion.RequiresData"/>.</summary>
    public IDataset? ScoringData { get; init; }

    /// <summary>Batch size of the scoring batches. Default 256.</summary>
    public int ScoringBatchSize { get; init; } = 256;

    /// <summary>Number of scoring batches (in stored order). Default 1.</summary>
    public int ScoringBatches { get; init; } = 1;

    /// <summary>Run the reinitialisation control (same mask, fresh initialisation) at <see cref="ControlLevels"/>. Default true.</summary>
    public bool ReinitializeControl { get; init; } = true;

    /// <summary>Run the random-mask control (same per-layer kept counts, random positions, the ticket's weights) at <see cref="ControlLevels"/>. Default true.</summary>
    public bool RandomMaskControl { get; init; } = true;

    /// <summary>Levels (≥ 1) at which the controls run. Default none.</summary>
    public IReadOnlyList<int> ControlLevels { get; init; } = [];

    /// <summary>Also run the controls at every level divisible by this (0 = never). Default 0.</summary>
    public int ControlEvery { get; init; }

    /// <summary>Seed of the controls: the reinitialisation uses it, the random mask of level L uses <c>ControlSeed + L</c>. Default 1.</summary>
    public long ControlSeed { get; init; } = 1;

    /// <summary>
    /// Re-initialises a model for the reinitialisation control, given a seed. Default: seeds the global CPU
    /// RNG, calls every module's <c>reset_parameters()</c> (TorchSharp's default initialisers), then restores
    /// the RNG. Supply the model's own initialiser when it differs from the defaults.
    /// </summary>
    public Action<nn.Module, long>? Reinitializer { get; init; }

    /// <summary>Whether the controls run at <paramref name="level"/>.</summary>
    /// <param name="level">A pruning level (≥ 1).</param>
    public bool ControlsAt(int level) =>
        (ReinitializeControl || RandomMaskControl) && level >= 1
        && (ControlLevels.Contains(level) || (ControlEvery > 0 && level % ControlEvery == 0));

    /// <summary>The fractions tried in order: <see cref="FractionPerLevel"/> then the ladder.</summary>
    public IReadOnlyList<double> Fractions => [FractionPerLevel, .. RateLadder ?? []];

    /// <summary>
    /// Checks every option (and the rewind point against the trainer's schedule). Throws before anything
    /// is touched.
    /// </summary>
    /// <param name="trainer">The trainer of the run (schedule length).</param>
    /// <exception cref="ArgumentException">An option is out of range; the parameter name is the option's.</exception>
    public void Validate(ILevelTrainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(Parameters, nameof(Parameters));
        ArgumentNullException.ThrowIfNull(Rewind, nameof(Rewind));
        RequireFraction(FractionPerLevel, nameof(FractionPerLevel));
        if (TargetSparsity is null && Levels < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Levels), Levels, "Levels is the number of pruning levels after the dense run; use 1 or more (or set TargetSparsity).");
        }

        if (TargetSparsity is { } target && !(target > 0.0 && target < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(TargetSparsity), target, "TargetSparsity must lie in (0, 1): 0.9 keeps 10 % of the prunable weights.");
        }

        if (OutputLayerFraction is { } fo)
        {
            RequireFraction(fo, nameof(OutputLayerFraction));
            if (Allocation is not LayerWiseAllocation)
            {
                throw new ArgumentException("OutputLayerFraction applies to layer-wise pruning only; set Allocation = new LayerWiseAllocation() or leave OutputLayerFraction null.", nameof(OutputLayerFraction));
            }

            if (Parameters.KeepLastLayerDense)
            {
                throw new ArgumentException("OutputLayerFraction prunes the output layer, but Parameters keeps it dense; set Parameters with KeepLastLayerDense = false.", nameof(OutputLayerFraction));
            }
        }

        if (trainer.Epochs < 1 || trainer.StepsPerEpoch < 1)
        {
            throw new ArgumentException($"The trainer reports {trainer.Epochs} epochs of {trainer.StepsPerEpoch} steps; both must be at least 1.", nameof(trainer));
        }

        long totalSteps = trainer.Epochs * trainer.StepsPerEpoch;
        switch (Rewind.Kind)
        {
            case RewindKind.Epoch when Rewind.Value < 0 || Rewind.Value >= trainer.Epochs:
                throw new ArgumentOutOfRangeException(nameof(Rewind), Rewind.Value,
                    $"Rewind epoch {Rewind.Value} must lie in [0, {trainer.Epochs}) (the training has {trainer.Epochs} epochs): rewinding to the last epoch would leave nothing to retrain.");
            case RewindKind.Step when Rewind.Value < 0 || Rewind.Value >= totalSteps:
                throw new ArgumentOutOfRangeException(nameof(Rewind), Rewind.Value,
                    $"Rewind step {Rewind.Value} must lie in [0, {totalSteps}) (the training has {totalSteps} steps).");
            case RewindKind.Step when !trainer.CanStartMidEpoch && Rewind.Value % trainer.StepsPerEpoch != 0:
                throw new ArgumentException(
                    $"Rewind step {Rewind.Value} falls inside an epoch ({trainer.StepsPerEpoch} steps each), but this trainer starts only at epoch boundaries; use a multiple of {trainer.StepsPerEpoch} or RewindPoint.AtEpoch.",
                    nameof(Rewind));
            case RewindKind.Initialization or RewindKind.FineTune or RewindKind.LearningRate when Rewind.Value != 0:
                throw new ArgumentException($"Rewind {Rewind.Kind} takes no value; use the RewindPoint factories.", nameof(Rewind));
        }

        if (FineTuneEpochs is { } ft && ft < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(FineTuneEpochs), ft, "FineTuneEpochs must be at least 1 (or null for the schedule's length).");
        }

        if (RateLadder is { } ladder)
        {
            if (ladder.Count == 0)
            {
                throw new ArgumentException("RateLadder is empty; give at least one smaller fraction or leave it null.", nameof(RateLadder));
            }

            double previous = FractionPerLevel;
            foreach (var f in ladder)
            {
                RequireFraction(f, nameof(RateLadder));
                if (f >= previous)
                {
                    throw new ArgumentException($"RateLadder must decrease strictly, starting below FractionPerLevel {FractionPerLevel}: got {f} after {previous}.", nameof(RateLadder));
                }

                previous = f;
            }
        }

        if (!(LadderTolerance >= 0.0 && LadderTolerance <= 100.0))
        {
            throw new ArgumentOutOfRangeException(nameof(LadderTolerance), LadderTolerance, "LadderTolerance is an accuracy difference in percentage points; use a value in [0, 100], e.g. 1.0 for one point.");
        }

        if (Criterion is { RequiresData: true } && ScoringData is null)
        {
            throw new ArgumentException($"Criterion '{Criterion.Name}' needs data; set ScoringData (and ScoringBatchSize, ScoringBatches) or use a data-free criterion.", nameof(ScoringData));
        }

        if (ScoringBatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ScoringBatchSize), ScoringBatchSize, "ScoringBatchSize must be at least 1.");
        }

        if (ScoringBatches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ScoringBatches), ScoringBatches, "ScoringBatches must be at least 1.");
        }

        ArgumentNullException.ThrowIfNull(ControlLevels, nameof(ControlLevels));
        if (ControlLevels.Any(l => l < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ControlLevels), "ControlLevels are pruning levels, 1 or more (level 0 is the dense run).");
        }

        if (ControlEvery < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ControlEvery), ControlEvery, "ControlEvery must be 0 (never) or a positive level interval.");
        }
    }

    private static void RequireFraction(double f, string name)
    {
        if (!(f > 0.0 && f < 1.0))
        {
            throw new ArgumentOutOfRangeException(name, f, $"{name} is the fraction of the remaining weights pruned per level and must lie in (0, 1), e.g. 0.2.");
        }
    }
}
