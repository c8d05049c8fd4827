using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sparsity.Criteria;
using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>
/// Lottery tickets by iterative magnitude pruning (IMP) with rewinding: train dense, prune a fraction of the
/// remaining weights, rewind the survivors, retrain with the mask fixed, repeat (Frankle &amp; Carbin,
/// ICLR 2019, Algorithm "iterative pruning with resetting"; late rewinding: Frankle et al., ICML 2020;
/// fine-tuning and learning-rate rewinding: Renda et al., ICLR 2020), with the two controls that make a
/// ticket a ticket (reinitialisation, random mask) and the NO-stealing-LTH rate ladder (Ownership
/// verification of lottery tickets, A.5.1: undo a level that falls more than a tolerance below dense and
/// continue with the next smaller fraction).
/// </summary>
/// <remarks>
/// <para>Level L ≥ 1: score the weights trained at level L − 1 with the criterion (pruned weights get −∞, so
/// they are never revived), prune exactly ⌈f · remaining⌉ of them (global allocation; ties broken by flat
/// index, lower index kept), restart from the rewind point, train through <see cref="MaskedModel"/> (the
/// library's one masking mechanism; the trainer masks gradients and re-applies the mask around every
/// step), record densities and per-epoch test accuracy, and write the ticket (mask + rewound weights).</para>
/// <para>The model ends holding the final ticket's trained weights (pruned positions 0.0). With a checkpoint
/// folder, the run state is written after every level and a later call with the same options resumes
/// from the last finished level.</para>
/// </remarks>
public sealed class IterativeMagnitudePruning
{
    private static readonly MagnitudeCriterion DefaultCriterion = new();
    private readonly IterativeMagnitudePruningOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates an iterative-pruning run description.</summary>
    /// <param name="options">The options (validated when <see cref="Run"/> starts); defaults when null.</param>
    /// <param name="logger">Logger; none when null.</param>
    public IterativeMagnitudePruning(IterativeMagnitudePruningOptions? options = null, ILogger<IterativeMagnitudePruning>? logger = null)
    {
        _options = options ?? new IterativeMagnitudePruningOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options of this run.</summary>
    public IterativeMagnitudePruningOptions Options => _options;

    /// <summary>
    /// Runs iterative pruning on <paramref name="model"/> (at its initialisation) with
    /// <paramref name="trainer"/>, or resumes it from <paramref name="checkpointFolder"/>.
    /// </summary>
    /// <param name="model">The model at initialisation (or any model of the architecture when resuming); trained in place.</param>
    /// <param name="trainer">Trains one level (see <see cref="ILevelTrainer"/>).</param>
    /// <param name="checkpointFolder">Folder for ticket files and the resumable run state; none when null.</param>
    /// <param name="progress">Receives a report after every epoch.</param>
    /// <param name="cancellationToken">Cancels between epochs; the last finished level stays on disk.</param>
    /// <returns>Every level's record and the final mask.</returns>
    /// <exception cref="ArgumentException">An option is invalid (the model is unchanged).</exception>
    public IterativeMagnitudePruningResult Run(
        nn.Module model,
        ILevelTrainer trainer,
        string? checkpointFolder = null,
        IProgress<IterativeMagnitudePruningProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainer);
        _options.Validate(trainer);
        var parameters = new ParameterSelector(_options.Parameters).Select(model);
        var outputLayer = new ParameterSelector(_options.Parameters with { KeepFirstLayerDense = false, KeepLastLayerDense = false, Include = [], Exclude = [] })
            .Select(model)[^1].Name;
        if (_options.OutputLayerFraction is not null && parameters.All(p => p.Name != outputLayer))
        {
            throw new ArgumentException($"OutputLayerFraction is set but the output layer '{outputLayer}' is not pruned; include it in Parameters.", nameof(IterativeMagnitudePruningOptions.OutputLayerFraction));
        }

        var run = new RunContext(this, model, trainer, parameters, outputLayer, checkpointFolder, progress, cancellationToken);
        return run.Execute();
    }

    /// <summary>
    /// Number of weights a level removes from <paramref name="remaining"/> at fraction <paramref name="fraction"/>:
    /// ⌈fraction · remaining⌉, in decimal arithmetic (so 0.2 · 100 is 20, not 21).
    /// </summary>
    /// <param name="remaining">Weights still kept.</param>
    /// <param name="fraction">Fraction of them to prune, in (0, 1).</param>
    public static long PruneCount(long remaining, double fraction) =>
        (long)decimal.Ceiling((decimal)fraction * remaining);

    /// <summary>
    /// A sparsity s with <see cref="SparsityBudget.KeptCount"/>(total, s) = <paramref name="kept"/> exactly
    /// (the allocation interface speaks sparsity; IMP counts weights).
    /// </summary>
    internal static double SparsityFor(long total, long kept)
    {
        if (kept == total)
        {
            return 0.0;
        }

        double s = (double)(total - kept) / total;
        for (int i = 0; i < 128; i++)
        {
            var k = SparsityBudget.KeptCount(total, s);
            if (k == kept)
            {
                return s;
            }

            s = k > kept ? Math.BitIncrement(s) : Math.BitDecrement(s);
        }

        throw new InvalidOperationException($"No sparsity keeps exactly {kept} of {total} weights.");
    }

    /// <summary>
    /// Default reinitialiser: PyTorch's default initialisation of every Linear and Conv layer (weight
    /// Kaiming-uniform with a = √5, bias U(−1/√fan_in, 1/√fan_in)), <c>reset_parameters()</c> of other
    /// modules that have it (normalisation layers), from the global CPU RNG seeded with
    /// <paramref name="seed"/>; the RNG's state is restored afterwards.
    /// </summary>
    internal static void ResetParameters(nn.Module model, long seed)
    {
        using var saved = TorchSharp.torch.random.get_rng_state();
        try
        {
            TorchSharp.torch.random.manual_seed(seed);
            using var noGrad = no_grad();
            foreach (var module in model.modules().Prepend(model))
            {
                if (module is TorchSharp.Modules.Linear or TorchSharp.Modules.Conv1d or TorchSharp.Modules.Conv2d or TorchSharp.Modules.Conv3d)
                {
                    var weight = module.get_parameter("weight");
                    if (weight is null)
                    {
                        continue;
                    }

                    nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
                    if (module.get_parameter("bias") is { } bias)
                    {
                        var (fanIn, _) = nn.init.CalculateFanInAndFanOut(weight);
                        var bound = fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0.0;
                        nn.init.uniform_(bias, -bound, bound);
                    }
                }
                else
                {
                    module.GetType().GetMethod("reset_parameters", Type.EmptyTypes)?.Invoke(module, null);
                }
            }
        }
        finally
        {
            TorchSharp.torch.random.set_rng_state(saved);
        }
    }

    private sealed class RunContext(
        IterativeMagnitudePruning owner,
        nn.Module model,
        ILevelTrainer trainer,
        IReadOnlyList<PrunableParameter> parameters,
        string outputLayer,
        string? folder,
        IProgress<IterativeMagnitudePruningProgress>? progress,
        CancellationToken ct)
    {
        private readonly IterativeMagnitudePruningOptions _o = owner._options;
        private readonly ILogger _log = owner._logger;
        private readonly long _totalSteps = trainer.Epochs * trainer.StepsPerEpoch;
        private RunState _state = new();
        private MaskSet? _mask;
        private ModelState? _rewind;
        private ModelState? _trained;

        public IterativeMagnitudePruningResult Execute()
        {
            try
            {
                if (!TryResume())
                {
                    TrainDense();
                }

                var stop = _state.Stopped ?? PruneLevels();
                _state.Stopped = stop;
                Save();
                _trained!.RestoreTo(model);
                var result = new IterativeMagnitudePruningResult(_state.History.ToList(), _mask!, stop);
                _mask = null;
                return result;
            }
            finally
            {
                _mask?.Dispose();
                _rewind?.Dispose();
                _trained?.Dispose();
            }
        }

        private Device ModelDevice => parameters[0].Weight.device;

        private bool TryResume()
        {
            if (folder is null)
            {
                return false;
            }

            Directory.CreateDirectory(folder);
            var loaded = TicketCheckpoint.LoadState(folder, model, parameters, ModelDevice, _log);
            if (loaded is not { } s)
            {
                return false;
            }

            if (s.State.Rewind != _o.Rewind.ToString() || !s.State.Fractions.SequenceEqual(_o.Fractions))
            {
                s.Mask.Dispose();
                s.Rewind?.Dispose();
                s.Trained.Dispose();
                throw new ArgumentException(
                    $"{folder} holds a run with rewind {s.State.Rewind} and fractions [{string.Join(", ", s.State.Fractions)}], " +
                    $"not {_o.Rewind} and [{string.Join(", ", _o.Fractions)}]; use another folder or the same options.", "checkpointFolder");
            }

            s.Mask.ValidateAgainst(parameters);
            (_state, _mask, _rewind, _trained) = (s.State, s.Mask, s.Rewind, s.Trained);
            if (_state.Stopped is StopReason.LevelsDone or StopReason.TargetReached)
            {
                _state.Stopped = null; // re-checked against the current options: more levels may be asked for
            }

            _trained.RestoreTo(model);
            _log.LogInformation("Resuming iterative pruning from {Folder}: {Levels} level(s) done, density {Density:P2}.",
                folder, _state.History.Count(r => r.Accepted) - 1, _mask.Density);
            return true;
        }

        private void TrainDense()
        {
            _state = new RunState { Rewind = _o.Rewind.ToString(), Fractions = [.. _o.Fractions] };
            _mask = MaskSet.Dense(parameters);
            long rewindStep = _o.Rewind.Kind switch
            {
                RewindKind.Initialization => 0,
                RewindKind.Epoch => _o.Rewind.Value * trainer.StepsPerEpoch,
                RewindKind.Step => _o.Rewind.Value,
                _ => -1,
            };
            if (rewindStep == 0)
            {
                _rewind = ModelState.Capture(model);
            }

            _log.LogInformation("Dense training: {Epochs} epochs of {Steps} steps; rewind {Rewind}.", trainer.Epochs, trainer.StepsPerEpoch, _o.Rewind);
            var result = trainer.Train(new LevelTrainingRequest
            {
                Model = model,
                StartStep = 0,
                StepCount = _totalSteps,
                AfterStep = rewindStep > 0 ? s =>
                {
                    if (s == rewindStep)
                    {
                        _rewind?.Dispose();
                        _rewind = ModelState.Capture(model);
                    }
                }
                : null,
                AfterEpoch = Reporter(0, TicketPhase.Dense, 0.0, 1.0, _totalSteps),
            }, ct);
            if (_o.Rewind.RewindsWeights && _rewind is null)
            {
                throw new InvalidOperationException($"The trainer never reported step {rewindStep}; the rewind weights could not be captured.");
            }

            _trained = ModelState.Capture(model);
            var record = Record(0, 0.0, true, _mask, result);
            _state.History.Add(record);
            _log.LogInformation("Dense accuracy {Accuracy:F2} % in {Seconds:F1} s.", record.TestAccuracy, record.Seconds);
            if (folder is not null)
            {
                TicketCheckpoint.SaveTicket(Path.Combine(folder, TicketCheckpoint.TicketFileName(0)), _mask, _rewind ?? _trained, record with { TicketFile = TicketCheckpoint.TicketFileName(0) });
                _state.History[^1] = record with { TicketFile = TicketCheckpoint.TicketFileName(0) };
            }

            Save();
        }

        private StopReason PruneLevels()
        {
            long targetKept = _o.TargetSparsity is { } t ? SparsityBudget.KeptCount(_mask!.TotalCount, t) : 0;
            var fractions = _o.Fractions;
            double dense = _state.History[0].TestAccuracy;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                int kept = _state.History.Count(r => r.Accepted) - 1;
                if (_o.TargetSparsity is null && kept >= _o.Levels)
                {
                    return StopReason.LevelsDone;
                }

                if (_o.TargetSparsity is not null && _mask!.KeptCount <= targetKept)
                {
                    return StopReason.TargetReached;
                }

                if (_state.LadderIndex >= fractions.Count)
                {
                    return StopReason.LadderExhausted;
                }

                int level = kept + 1;
                double fraction = fractions[_state.LadderIndex];
                var next = NextMask(fraction, targetKept);
                if (next.KeptCount == _mask!.KeptCount)
                {
                    next.Dispose();
                    return StopReason.NothingLeft;
                }

                if (!RunLevel(level, fraction, next, dense))
                {
                    _state.LadderIndex++;
                }

                Save();
            }
        }

        /// <summary>Trains the ticket of one level; returns false when the ladder undid it.</summary>
        private bool RunLevel(int level, double fraction, MaskSet next, double dense)
        {
            using var start = _o.Rewind.RewindsWeights ? null : ModelState.Capture(model);
            var startState = start ?? _rewind!;
            var (startStep, steps, hold) = Segment();
            _log.LogInformation("Level {Level}: prune {Fraction:P1} of the remaining weights, density {Density:P2}.", level, fraction, next.Density);
            LevelTrainingResult result;
            try
            {
                result = TrainMasked(next, startState, startStep, steps, hold, Reporter(level, TicketPhase.Ticket, fraction, next.Density, steps));
            }
            catch
            {
                next.Dispose();
                throw;
            }

            var record = Record(level, fraction, true, next, result);
            if (_o.RateLadder is not null && dense - record.TestAccuracy > _o.LadderTolerance)
            {
                _log.LogInformation("Level {Level} at fraction {Fraction} reaches {Accuracy:F2} %, more than {Tolerance} points below dense {Dense:F2} %: undone.",
                    level, fraction, record.TestAccuracy, _o.LadderTolerance, dense);
                _state.History.Add(record with { Accepted = false });
                _trained!.RestoreTo(model);
                next.Dispose();
                return false;
            }

            using var trained = ModelState.Capture(model);
            try
            {
                if (_o.ControlsAt(level))
                {
                    record = RunControls(level, fraction, next, startState, record, startStep, steps, hold);
                    trained.RestoreTo(model);
                }

                if (folder is not null)
                {
                    var file = TicketCheckpoint.TicketFileName(level);
                    record = record with { TicketFile = file };
                    TicketCheckpoint.SaveTicket(Path.Combine(folder, file), next, startState, record);
                }
            }
            catch
            {
                next.Dispose();
                throw;
            }

            _log.LogInformation("Level {Level}: density {Density:P2}, accuracy {Accuracy:F2} % (dense {Dense:F2} %).", level, record.Density, record.TestAccuracy, dense);
            _state.History.Add(record);
            _mask!.Dispose();
            _mask = next;
            _trained!.Dispose();
            _trained = ModelState.Capture(model);
            return true;
        }

        private LevelRecord RunControls(int level, double fraction, MaskSet ticket, ModelState start, LevelRecord record, long startStep, long steps, bool hold)
        {
            if (_o.ReinitializeControl)
            {
                long seed = _o.ControlSeed;
                start.RestoreTo(model);
                (_o.Reinitializer ?? ResetParameters)(model, seed);
                using var fresh = ModelState.Capture(model);
                var r = TrainMasked(ticket, fresh, startStep, steps, hold, Reporter(level, TicketPhase.Reinitialized, fraction, ticket.Density, steps));
                record = record with { Reinitialized = new ControlRecord(seed, r.FinalAccuracy, r.Epochs, r.Seconds) };
            }

            if (_o.RandomMaskControl)
            {
                long seed = _o.ControlSeed + level;
                using var random = RandomMask(ticket, seed);
                var r = TrainMasked(random, start, startStep, steps, hold, Reporter(level, TicketPhase.RandomMask, fraction, random.Density, steps));
                record = record with { RandomMask = new ControlRecord(seed, r.FinalAccuracy, r.Epochs, r.Seconds) };
            }

            return record;
        }

        private (long Start, long Steps, bool Hold) Segment() => _o.Rewind.Kind switch
        {
            RewindKind.Initialization => (0, _totalSteps, false),
            RewindKind.Epoch => (_o.Rewind.Value * trainer.StepsPerEpoch, _totalSteps - (_o.Rewind.Value * trainer.StepsPerEpoch), false),
            RewindKind.Step => (_o.Rewind.Value, _totalSteps - _o.Rewind.Value, false),
            RewindKind.FineTune => (_totalSteps - 1, (_o.FineTuneEpochs ?? trainer.Epochs) * trainer.StepsPerEpoch, true),
            _ => (0, _totalSteps, false),
        };

        private LevelTrainingResult TrainMasked(MaskSet mask, ModelState start, long startStep, long steps, bool hold, Action<EpochResult> report)
        {
            ct.ThrowIfCancellationRequested();
            start.RestoreTo(model);
            LevelTrainingResult result;
            using (var masked = MaskedModel.Attach(model, mask, parameters))
            {
                result = trainer.Train(new LevelTrainingRequest
                {
                    Model = model,
                    Masks = masked,
                    StartStep = startStep,
                    StepCount = steps,
                    HoldLearningRate = hold,
                    AfterEpoch = report,
                }, ct);
            }

            // Disposing the binding restores the held values at pruned positions; zero them for good.
            mask.ApplyTo(model, parameters);
            return result;
        }

        private MaskSet NextMask(double fraction, long targetKept)
        {
            var batches = _o.ScoringData is { } data
                ? data.Batches(_o.ScoringBatchSize, ModelDevice).Take(_o.ScoringBatches)
                : Enumerable.Empty<Batch>();
            var criterion = _o.Criterion ?? DefaultCriterion;
            var allocation = _o.Allocation ?? new GlobalAllocation();
            long remaining = _mask!.KeptCount;
            long total = _mask.TotalCount;
            long newKept = Math.Max(remaining - PruneCount(remaining, fraction), targetKept);
            using var raw = criterion.Score(model, parameters, batches,
                new ScoringOptions { TargetSparsity = SparsityFor(total, newKept), Allocation = allocation }, ct);
            using var scores = Exclude(raw, _mask);

            MaskSet chosen;
            if (allocation is LayerWiseAllocation)
            {
                chosen = LayerWise(scores, fraction, _o.TargetSparsity);
            }
            else
            {
                if (allocation is GlobalAllocation { AllowEmptyLayers: false })
                {
                    newKept = Math.Max(newKept, _mask.LayerCount);
                }

                chosen = allocation.Allocate(scores, SparsityFor(total, newKept));
            }

            // Never revive a pruned weight, whatever the allocation did.
            using (chosen)
            {
                var parts = new List<KeyValuePair<string, Tensor>>(chosen.LayerCount);
                foreach (var (name, m) in chosen.Entries)
                {
                    using var scope = NewDisposeScope();
                    parts.Add(KeyValuePair.Create(name, m.logical_and(_mask[name].to(m.device)).DetachFromDisposeScope()));
                }

                return new MaskSet(parts);
            }
        }

        private MaskSet LayerWise(ScoreSet scores, double fraction, double? target)
        {
            var parts = new List<KeyValuePair<string, Tensor>>();
            var single = new GlobalAllocation(allowEmptyLayers: true);
            foreach (var name in scores.Names)
            {
                long n = scores[name].numel();
                long remaining = _mask!.KeptIn(name);
                double f = name == outputLayer && _o.OutputLayerFraction is { } fo ? fo : fraction;
                long kept = Math.Max(1, remaining - PruneCount(remaining, f));
                if (target is { } t)
                {
                    kept = Math.Max(kept, Math.Min(remaining, SparsityBudget.KeptCount(n, t)));
                }

                using var one = new ScoreSet([KeyValuePair.Create(name, scores[name].clone().DetachFromDisposeScope())]);
                using var m = single.Allocate(one, SparsityFor(n, kept));
                parts.Add(KeyValuePair.Create(name, m[name].clone().DetachFromDisposeScope()));
            }

            return new MaskSet(parts);
        }

        private static ScoreSet Exclude(ScoreSet raw, MaskSet mask)
        {
            var parts = new List<KeyValuePair<string, Tensor>>(raw.LayerCount);
            foreach (var (name, score) in raw.Entries)
            {
                using var scope = NewDisposeScope();
                parts.Add(KeyValuePair.Create(name, score.masked_fill(mask[name].to(score.device).logical_not(), double.NegativeInfinity).DetachFromDisposeScope()));
            }

            return new ScoreSet(parts);
        }

        private MaskSet RandomMask(MaskSet ticket, long seed)
        {
            using var generator = new Generator((ulong)seed);
            if (_o.Allocation is NMAllocation nm)
            {
                return RandomNMMask(ticket, nm, generator);
            }

            var single = new GlobalAllocation(allowEmptyLayers: true);
            var parts = new List<KeyValuePair<string, Tensor>>();
            foreach (var (name, m) in ticket.Entries)
            {
                long n = m.numel();
                using var random = rand(m.shape, generator: generator).to(m.device);
                using var one = new ScoreSet([KeyValuePair.Create(name, random.clone().DetachFromDisposeScope())]);
                using var chosen = single.Allocate(one, SparsityFor(n, ticket.KeptIn(name)));
                parts.Add(KeyValuePair.Create(name, chosen[name].clone().DetachFromDisposeScope()));
            }

            return new MaskSet(parts);
        }

        /// <summary>The random control of an N:M ticket: random scores cut by the same N:M allocation (N per group, random positions).</summary>
        private static MaskSet RandomNMMask(MaskSet ticket, NMAllocation nm, Generator generator)
        {
            using var random = new ScoreSet(ticket.Entries
                .Select(e => KeyValuePair.Create(e.Key, rand(e.Value.shape, generator: generator).to(e.Value.device).DetachFromDisposeScope())).ToList());
            return nm.Allocate(random, nm.Pattern.Sparsity);
        }

        private LevelRecord Record(int level, double fraction, bool accepted, MaskSet mask, LevelTrainingResult result) => new()
        {
            Level = level,
            Fraction = fraction,
            Accepted = accepted,
            KeptCount = mask.KeptCount,
            TotalCount = mask.TotalCount,
            Layers = mask.Layers,
            Epochs = result.Epochs,
            TestAccuracy = result.FinalAccuracy,
            Seconds = result.Seconds,
        };

        private Action<EpochResult> Reporter(int level, TicketPhase phase, double fraction, double density, long steps)
        {
            int count = (int)((steps + trainer.StepsPerEpoch - 1) / trainer.StepsPerEpoch);
            int index = 0;
            return e =>
            {
                index++;
                progress?.Report(new IterativeMagnitudePruningProgress(level, phase, fraction, density, e.Epoch, e.TestAccuracy, index, count));
            };
        }

        private void Save()
        {
            if (folder is not null)
            {
                TicketCheckpoint.SaveState(folder, _state, _mask!, _rewind, _trained!);
            }
        }
    }
}
