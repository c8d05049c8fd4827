using Microsoft.Extensions.Logging;
using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>One run of <see cref="IterativeMagnitudePruning"/>: dense training, the pruning levels with their controls, checkpoints.</summary>
public sealed partial class IterativeMagnitudePruning
{
    private sealed partial class RunContext(
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
