using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Training;

/// <summary>
/// Supervised training of a classifier with cross-entropy and SGD (TorchSharp <c>optim.SGD</c>, PyTorch
/// semantics: g ← ∇L + λw; b ← μb + g (b = g at the first step); w ← w − η·b, or w ← w − η·(g + μb) with
/// Nesterov), the learning rate set per epoch from <see cref="TrainingOptions.Schedule"/>.
/// </summary>
/// <remarks>
/// <para>Determinism: epoch e iterates the training set in the order of
/// <see cref="IDataset.Batches"/> with shuffle seed <see cref="TrainingOptions.EpochSeed"/>(e), and the
/// global TorchSharp generator is re-seeded with the same value at the start of the epoch (dropout). So a
/// run resumed from a checkpoint ends with the same weights, bit for bit on CPU, as an uninterrupted run.</para>
/// <para>Checkpoints (when <see cref="TrainingOptions.CheckpointFolder"/> is set): written atomically before
/// the first epoch and after each epoch (<see cref="TrainingCheckpoint"/>). Cancellation is checked between
/// batches; it throws <see cref="OperationCanceledException"/> and leaves the checkpoint of the last
/// finished epoch in place.</para>
/// <para>The model is trained on <see cref="TrainingOptions.Device"/> (moved there first if needed, which
/// replaces its parameter objects: attach masks after that) and is left in eval mode.</para>
/// </remarks>
/// <param name="logger">Receives one line per epoch; null for none.</param>
public sealed class Trainer(ILogger<Trainer>? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger<Trainer>.Instance;

    /// <summary>Trains <paramref name="model"/> from its current weights for <see cref="TrainingOptions.Epochs"/> epochs.</summary>
    /// <param name="model">A classifier returning logits N×ClassCount.</param>
    /// <param name="train">The training set.</param>
    /// <param name="test">A test set evaluated after every epoch (not timed), or null.</param>
    /// <param name="options">Hyper-parameters; validated first.</param>
    /// <param name="progress">Receives reports during each epoch and at its end; null for none.</param>
    /// <param name="hooks">Code run around each optimiser step (masked training); null for none.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>One record per epoch and the last checkpoint's path.</returns>
    /// <exception cref="OperationCanceledException">Cancelled; the last finished epoch's checkpoint is on disk.</exception>
    public TrainingResult Train(nn.Module<Tensor, Tensor> model, IDataset train, IDataset? test, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, ITrainingStepHooks? hooks = null, CancellationToken cancellationToken = default) =>
        Run(model, train, test, options, resumeFrom: null, progress, hooks, cancellationToken);

    /// <summary>
    /// Continues a run from a checkpoint written by <see cref="Train"/>: loads the weights, buffers and
    /// momentum, then trains the remaining epochs. The options must be those of the interrupted run (the
    /// device and checkpoint folder may differ).
    /// </summary>
    /// <param name="model">A model built like the one that was trained (its weights are overwritten).</param>
    /// <param name="checkpointPath">The checkpoint file.</param>
    /// <param name="train">The training set of the interrupted run.</param>
    /// <param name="test">The test set, or null.</param>
    /// <param name="options">The interrupted run's options.</param>
    /// <param name="progress">Receives reports; null for none.</param>
    /// <param name="hooks">Code run around each optimiser step; null for none.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>The records of all epochs (restored ones first).</returns>
    /// <exception cref="ArgumentException">The checkpoint was written with other options or does not fit the model.</exception>
    /// <exception cref="SparsityFormatException">
    /// The checkpoint and its previous generation (<c>.prev</c>) are both truncated, corrupt or inconsistent (a corrupt
    /// newest one alone is logged as a warning and the previous generation is used).
    /// </exception>
    public TrainingResult Resume(nn.Module<Tensor, Tensor> model, string checkpointPath, IDataset train, IDataset? test, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, ITrainingStepHooks? hooks = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        return Run(model, train, test, options, checkpointPath, progress, hooks, cancellationToken);
    }

    private TrainingResult Run(nn.Module<Tensor, Tensor> model, IDataset train, IDataset? test, TrainingOptions options, string? resumeFrom,
        IProgress<TrainingProgress>? progress, ITrainingStepHooks? hooks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ModelDevice.CheckDataset(train, nameof(train));
        if (test is not null)
        {
            ModelDevice.CheckDataset(test, nameof(test));
        }

        options.Validate();
        var device = options.Device ?? ModelDevice.Of(model);
        if (!ModelDevice.Of(model).SameAs(device))
        {
            model.to(device);
        }

        var named = model.named_parameters().ToList();
        if (named.Count == 0)
        {
            throw new ArgumentException("The model has no parameters to train.", nameof(model));
        }

        var names = named.Select(p => p.name).ToArray();
        using var optimizer = optim.SGD(named.Select(p => p.parameter), options.LearningRate, options.Momentum, 0, options.WeightDecay, options.Nesterov);
        var history = new List<EpochRecord>();
        string? checkpoint = null;
        if (resumeFrom is not null)
        {
            // The newest generation, or the previous one (logged) when the newest is truncated or corrupt.
            var info = IO.SafeTensorsReader.ReadWithFallback(resumeFrom, path =>
            {
                var read = TrainingCheckpoint.Read(path);
                if (read.OptionsFingerprint != options.Fingerprint())
                {
                    throw new ArgumentException(
                        $"{path} was written with options [{read.OptionsFingerprint}] but Resume was called with [{options.Fingerprint()}]; resume with the original options.",
                        nameof(options));
                }

                TrainingCheckpoint.LoadModel(model, path);
                TrainingCheckpoint.LoadMomentum(path, names, optimizer, device);
                return read;
            }, _logger);
            history.AddRange(info.History);
            checkpoint = info.Path;
            _logger.LogInformation("Resuming from {Checkpoint} after epoch {Epoch} of {Epochs}", resumeFrom, info.Epoch, options.Epochs);
        }

        var folder = options.CheckpointFolder;
        if (folder is not null && resumeFrom is null)
        {
            checkpoint = TrainingCheckpoint.Write(folder, model, names, optimizer, 0, options, history);
        }

        long batchCount = (train.Count + options.BatchSize - 1) / options.BatchSize;
        long iteration = history.Count * batchCount;
        long reportEvery = Math.Max(1, batchCount / 50);
        for (int epoch = history.Count; epoch < options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double lr = options.LearningRateAt(epoch);
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = lr;
            }

            long epochSeed = options.EpochSeed(epoch);
            manual_seed(epochSeed);
            model.train();
            var clock = Stopwatch.StartNew();
            using var lossSum = zeros(1, ScalarType.Float64, device);
            using var correct = zeros(1, ScalarType.Int64, device);
            long seen = 0, batchIndex = 0;
            foreach (var batch in train.Batches(options.BatchSize, device, shuffleSeed: epochSeed))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using (var scope = NewDisposeScope())
                {
                    optimizer.zero_grad();
                    var logits = model.forward(batch.Inputs);
                    Evaluator.CheckLogits(logits, batch.Count, train.ClassCount);
                    var labels = batch.Labels.to(ScalarType.Int64);
                    var loss = nn.functional.cross_entropy(logits, labels);
                    loss.backward();
                    var step = new TrainingStep(epoch + 1, batchIndex, iteration);
                    hooks?.BeforeOptimizerStep(model, step);
                    optimizer.step();
                    hooks?.AfterOptimizerStep(model, step);
                    using (no_grad())
                    {
                        lossSum.add_(loss.detach().to(ScalarType.Float64).mul(batch.Count));
                        correct.add_(logits.detach().argmax(1).eq(labels).sum());
                    }
                }

                seen += batch.Count;
                batchIndex++;
                iteration++;
                if (progress is not null && batchIndex % reportEvery == 0 && batchIndex < batchCount)
                {
                    progress.Report(new TrainingProgress(epoch + 1, options.Epochs, batchIndex, batchCount, lossSum.item<double>() / seen, null));
                }
            }

            double meanLoss = lossSum.item<double>() / seen;
            double trainAccuracy = 100.0 * correct.item<long>() / seen;
            clock.Stop();
            EvaluationResult? evaluation = test is null ? null : Evaluator.Evaluate(model, test, 1000, device, cancellationToken);
            var record = new EpochRecord(epoch + 1, lr, meanLoss, trainAccuracy, evaluation?.Accuracy, evaluation?.Loss, clock.Elapsed.TotalSeconds);
            history.Add(record);
            if (folder is not null)
            {
                checkpoint = TrainingCheckpoint.Write(folder, model, names, optimizer, epoch + 1, options, history);
            }

            _logger.LogInformation(
                "Epoch {Epoch}/{Epochs}: lr {LearningRate:G4}, loss {Loss:F4}, train {TrainAccuracy:F2} %, test {TestAccuracy:F2} %, {Seconds:F1} s",
                record.Epoch, options.Epochs, lr, meanLoss, trainAccuracy, record.TestAccuracy ?? double.NaN, record.Seconds);
            progress?.Report(new TrainingProgress(epoch + 1, options.Epochs, batchIndex, batchCount, meanLoss, record));
        }

        model.eval();
        return new TrainingResult(history, checkpoint);
    }
}
