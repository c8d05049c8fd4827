using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.Training;
using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>
/// Runs iterative-pruning levels on the library's <see cref="Trainer"/> (one training loop for the whole
/// library): masked training through <see cref="MaskedTrainingHooks"/> (mask the gradients before and
/// re-apply the masks after every optimiser step), the learning-rate schedule of
/// <see cref="TrainingOptions"/>, test accuracy after every epoch from the trainer's evaluation.
/// </summary>
/// <remarks>
/// <para>Schedule positions: a level that starts at step 0 runs <see cref="Trainer.Train"/>; a level that
/// resumes the schedule at epoch k (late rewinding) runs <see cref="Trainer.Resume"/> from a checkpoint of the
/// current (rewound, masked) weights marked as epoch k and holding no momentum, so the trainer continues the
/// schedule and the data order at epoch k with a fresh optimiser (open_lth's behaviour); fine-tuning runs the
/// recipe at the schedule's last learning rate, held constant. The trainer's schedule and data order are per
/// epoch, so <see cref="CanStartMidEpoch"/> is false.</para>
/// <para>The model must already be on <see cref="TrainingOptions.Device"/> (when set) before
/// <see cref="IterativeMagnitudePruning.Run"/>: masks are bound before training and the trainer would otherwise move
/// the model and replace its parameters.</para>
/// </remarks>
public sealed class TrainerLevelTrainer : ILevelTrainer
{
    private static readonly JsonSerializerOptions HistoryJson = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
    private readonly IDataset _train;
    private readonly IDataset _test;
    private readonly TrainingOptions _options;
    private readonly Trainer _trainer;
    private readonly string? _workFolder;

    /// <summary>Creates the adapter.</summary>
    /// <param name="train">Training set.</param>
    /// <param name="test">Test set, evaluated after every epoch (the level's accuracies).</param>
    /// <param name="options">The recipe of every level (and of the dense run); its checkpoint folder is not used.</param>
    /// <param name="trainer">The trainer (its logger); a new one when null.</param>
    /// <param name="workFolder">Where the short-lived start checkpoints of late-rewinding levels go; the system temp folder when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option of <paramref name="options"/> is invalid (named).</exception>
    public TrainerLevelTrainer(IDataset train, IDataset test, TrainingOptions options, Trainer? trainer = null, string? workFolder = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _train = train;
        _test = test;
        _options = options with { CheckpointFolder = null };
        _trainer = trainer ?? new Trainer();
        _workFolder = workFolder;
    }

    /// <summary>The training recipe.</summary>
    public TrainingOptions Options => _options;

    /// <inheritdoc />
    public int Epochs => _options.Epochs;

    /// <inheritdoc />
    public long StepsPerEpoch => (_train.Count + _options.BatchSize - 1) / _options.BatchSize;

    /// <inheritdoc />
    public bool CanStartMidEpoch => false;

    /// <inheritdoc />
    public LevelTrainingResult Train(LevelTrainingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Model is not nn.Module<Tensor, Tensor> model)
        {
            throw new ArgumentException($"The trainer needs a classifier (nn.Module<Tensor, Tensor>); got {request.Model.GetType().Name}.", nameof(request));
        }

        var device = model.parameters().First().device;
        if (_options.Device is { } wanted && (wanted.type != device.type || wanted.index != device.index))
        {
            throw new InvalidOperationException($"The model is on {device} but TrainingOptions.Device is {wanted}; move the model there before iterative pruning.");
        }

        long steps = StepsPerEpoch;
        if (request.StartStep % steps != 0 && !request.HoldLearningRate)
        {
            throw new ArgumentException($"StartStep {request.StartStep} is inside an epoch of {steps} steps; this trainer starts at epoch boundaries only.", nameof(request));
        }

        if (request.StepCount % steps != 0)
        {
            throw new ArgumentException($"StepCount {request.StepCount} is not a whole number of epochs of {steps} steps.", nameof(request));
        }

        var hooks = new Hooks(request);
        var progress = new EpochProgress(request.AfterEpoch);
        TrainingResult result;
        int skip = 0;
        if (request.HoldLearningRate)
        {
            int startEpoch = (int)Math.Min(request.StartStep / steps, _options.Epochs - 1);
            var hold = _options with
            {
                Epochs = (int)(request.StepCount / steps),
                Schedule = LearningRateSchedule.Constant,
                LearningRate = _options.LearningRateAt(startEpoch),
            };
            result = _trainer.Train(model, _train, _test, hold, progress, hooks, cancellationToken);
        }
        else if (request.StartStep == 0)
        {
            result = _trainer.Train(model, _train, _test, _options with { Epochs = (int)(request.StepCount / steps) }, progress, hooks, cancellationToken);
        }
        else
        {
            skip = (int)(request.StartStep / steps);
            if (skip + (request.StepCount / steps) != _options.Epochs)
            {
                throw new ArgumentException($"A level resumed at epoch {skip} must train to the end of the {_options.Epochs}-epoch schedule.", nameof(request));
            }

            var folder = Path.Combine(_workFolder ?? Path.GetTempPath(), "sparsity-imp-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            try
            {
                var path = WriteStartCheckpoint(folder, model, skip);
                result = _trainer.Resume(model, path, _train, _test, _options, progress, hooks, cancellationToken);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        var epochs = result.Epochs.Skip(skip)
            .Select(e => new EpochResult(e.Epoch, e.TestAccuracy ?? double.NaN, e.Seconds, e.LearningRate))
            .ToList();
        return new LevelTrainingResult(epochs, epochs.Sum(e => e.Seconds));
    }

    /// <summary>
    /// A <see cref="TrainingCheckpoint"/> of the live state (masked weights, buffers) marked as epoch
    /// <paramref name="epoch"/> of this recipe, without momentum buffers (the trainer resumes with a fresh
    /// optimiser).
    /// </summary>
    private string WriteStartCheckpoint(string folder, nn.Module model, int epoch)
    {
        var history = Enumerable.Range(0, epoch)
            .Select(e => new EpochRecord(e + 1, _options.LearningRateAt(e), double.NaN, double.NaN, null, null, 0.0))
            .ToList();
        var path = Path.Combine(folder, TrainingCheckpoint.FileName);
        SafeTensorsWriter.WriteWithChecksum(path, model.state_dict(), new Dictionary<string, string>
        {
            ["format"] = TrainingCheckpoint.FormatName,
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = _options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["seed"] = _options.Seed.ToString(CultureInfo.InvariantCulture),
            ["options"] = _options.Fingerprint(),
            ["history"] = JsonSerializer.Serialize(history, HistoryJson),
        }, keepPrevious: false);
        return path;
    }

    /// <summary>Masked training (the library's hooks) plus the step callback of the request.</summary>
    private sealed class Hooks(LevelTrainingRequest request) : ITrainingStepHooks
    {
        private readonly MaskedTrainingHooks? _masked = request.Masks is { } m ? new MaskedTrainingHooks(m) : null;

        public void BeforeOptimizerStep(nn.Module model, TrainingStep step) => _masked?.BeforeOptimizerStep(model, step);

        public void AfterOptimizerStep(nn.Module model, TrainingStep step)
        {
            _masked?.AfterOptimizerStep(model, step);
            request.AfterStep?.Invoke(step.Iteration + 1);
        }
    }

    /// <summary>Turns the trainer's end-of-epoch reports into <see cref="EpochResult"/> callbacks (synchronously).</summary>
    private sealed class EpochProgress(Action<EpochResult>? afterEpoch) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Completed is { } r)
            {
                afterEpoch?.Invoke(new EpochResult(r.Epoch, r.TestAccuracy ?? double.NaN, r.Seconds, r.LearningRate));
            }
        }
    }
}
