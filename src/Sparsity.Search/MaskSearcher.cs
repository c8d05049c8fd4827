using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sparsity.Analysis;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// Lottery-jackpot mask search (Zhang et al., "Lottery Jackpots Exist in Pre-trained Models", arXiv
/// 2104.08700 / TPAMI 2023; docs/algorithms.md#lottery-jackpots): trains one real score per weight of a frozen pre-trained
/// model with a straight-through estimator and re-selects every layer's binary mask after every optimiser
/// step, keeping each layer's kept count fixed.
/// </summary>
/// <remarks>
/// <para>Mechanism: the model is used as is. Masks are bound with the Core's <see cref="MaskedModel"/>, so the
/// live weight is W ⊙ M and its gradient is ∂L/∂W_eff; the score gradient is the straight-through
/// <c>∂L/∂s = ∂L/∂W_eff ⊙ W</c> (docs/algorithms.md#masked-forward-and-the-straight-through-gradient, LJ <c>GetMask</c>, no <c>abs</c>). Only the scores are optimised
/// (SGD with momentum and weight decay, PyTorch semantics). Every parameter of the model — weights, biases,
/// BatchNorm γ/β — is left unchanged: the searched weights keep <c>requires_grad</c> only to receive
/// ∂L/∂W_eff and are never stepped; all flags and train/eval modes are restored afterwards, and the dense
/// weights are bit-identical after the search. BatchNorm running statistics follow
/// <see cref="MaskSearchOptions.BatchNorm"/> (by default they update, as in the official code).</para>
/// <para>Unlike the released <c>cifar.py</c> at HEAD (which rebuilds the model without its pre-trained weights
/// after computing the budget, docs/algorithms.md#deviations-from-the-released-code), the search always runs on the caller's weights.</para>
/// <para>Mask update (<see cref="SearchStep"/>): per layer, the exact top-k of the scores is found incrementally
/// (<see cref="ThresholdTracker"/>); the restriction policy decides how many of the proposed swaps happen. Off the
/// CPU, an all-or-nothing policy (the official short restriction, or none) takes the sync-free path
/// (<see cref="SyncFreeMaskUpdate"/>), which reads nothing back to the host per step.</para>
/// <para>With <see cref="MaskSearchOptions.Constraint"/> (our extension, used to sign a jackpot without retraining) the
/// selection treats forced-on scores as +∞ and forced-off scores as −∞, so every mask keeps the forced-on positions
/// and prunes the forced-off ones at the same per-layer counts.</para>
/// </remarks>
public sealed class MaskSearcher
{
    internal const string CheckpointFileName = "search-checkpoint.safetensors";
    private readonly ILogger<MaskSearcher> _logger;

    /// <summary>Creates a searcher.</summary>
    /// <param name="options">The settings; defaults when null.</param>
    /// <param name="logger">Logger for per-epoch summaries; none when null.</param>
    public MaskSearcher(MaskSearchOptions? options = null, ILogger<MaskSearcher>? logger = null)
    {
        Options = options ?? new MaskSearchOptions();
        Options.Validate();
        _logger = logger ?? NullLogger<MaskSearcher>.Instance;
    }

    /// <summary>The settings.</summary>
    public MaskSearchOptions Options { get; }

    /// <summary>Test hook: called after every step's mask update (inside no_grad).</summary>
    internal Action<MaskedModel, SearchState>? StepObserver { get; set; }

    /// <summary>The path of the checkpoint file inside <paramref name="folder"/>.</summary>
    /// <param name="folder">A checkpoint folder.</param>
    public static string CheckpointPath(string folder) => Path.Combine(folder, CheckpointFileName);

    /// <summary>
    /// Searches a mask starting from the mask of <paramref name="initializer"/> over the weights chosen by
    /// <see cref="MaskSearchOptions.Parameters"/>; the initializer sees the first
    /// <see cref="MaskSearchOptions.InitializerBatches"/> training batches in stored order.
    /// </summary>
    /// <param name="model">The pre-trained model (logits out); its parameters are left unchanged.</param>
    /// <param name="initializer">Produces the initial scores and mask (for example global magnitude).</param>
    /// <param name="train">Training data.</param>
    /// <param name="test">Test data for per-epoch accuracy; none when null.</param>
    /// <param name="progress">Progress reports.</param>
    /// <param name="cancellationToken">Checked before every step; the last epoch's checkpoint stays loadable.</param>
    /// <exception cref="ArgumentException">
    /// The model has no prunable layer, or the initial mask does not fit it, or
    /// <see cref="MaskSearchOptions.Constraint"/> does not fit the searched weights.
    /// </exception>
    public SearchResult Search(
        nn.Module<Tensor, Tensor> model,
        IMaskInitializer initializer,
        IDataset train,
        IDataset? test = null,
        IProgress<SearchProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(initializer);
        ArgumentNullException.ThrowIfNull(train);
        var parameters = new ParameterSelector(Options.Parameters).Select(model);
        var device = Options.Device ?? parameters[0].Weight.device;
        if (!parameters[0].Weight.device.SameAs(device))
        {
            model.to(device);
        }

        using var initial = initializer.Initialize(model, parameters, train.Batches(Options.BatchSize, device).Take(Options.InitializerBatches), cancellationToken);
        return Search(model, initial, train, test, progress, cancellationToken);
    }

    /// <summary>
    /// Searches a mask starting from <paramref name="initial"/> (its mask names the searched weights and fixes
    /// every layer's kept count; <see cref="MaskSearchOptions.ScoreInitializer"/> turns it into starting scores).
    /// </summary>
    /// <param name="model">The pre-trained model (logits out); its parameters are left unchanged.</param>
    /// <param name="initial">Initial scores and mask (not disposed).</param>
    /// <param name="train">Training data.</param>
    /// <param name="test">Test data for per-epoch accuracy; none when null.</param>
    /// <param name="progress">Progress reports.</param>
    /// <param name="cancellationToken">Checked before every step; the last epoch's checkpoint stays loadable.</param>
    /// <exception cref="ArgumentException">
    /// The model has no prunable layer, or the initial mask does not fit it or keeps nothing, or
    /// <see cref="MaskSearchOptions.Constraint"/> does not fit the searched weights.
    /// </exception>
    public SearchResult Search(
        nn.Module<Tensor, Tensor> model,
        InitialMask initial,
        IDataset train,
        IDataset? test = null,
        IProgress<SearchProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(train);
        var parameters = ResolveParameters(model, initial.Mask.Names, initial.Mask, nameof(initial));
        if (initial.Mask.KeptCount == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(initial), initial.Mask.Sparsity,
                "The initial mask keeps no weight (sparsity 1.0); a search needs a sparsity in [0, 1).");
        }

        var device = PrepareDevice(model, parameters);
        using var constrained = Constrain(initial);
        var first = constrained ?? initial;
        using var start = Options.ScoreInitializer.Initialize(first);
        ValidateStart(start, first.Mask);
        if (Options.SemiStructured is { } pattern)
        {
            NMLayerSelector.ValidateInitial(pattern, start.Mask);
        }

        var state = SearchState.Start(start, first.Mask, parameters, device, Options.SemiStructured);
        if (Options.CheckpointFolder is { } folder)
        {
            state.WeightDigests = SearchCheckpoint.Digests(parameters); // only checkpoints use them (hashing every weight costs a few ms)
            SearchCheckpoint.Write(CheckpointPath(folder), state, Options, model, parameters);
        }

        return Run(model, parameters, state, device, train, test, progress, cancellationToken);
    }

    /// <summary>
    /// Continues the run whose checkpoint lies in <see cref="MaskSearchOptions.CheckpointFolder"/>. The model
    /// must be the same pre-trained model (checked by a digest of the searched weights) and the options must
    /// describe the same run (<see cref="MaskSearchOptions.Fingerprint"/>). On CPU the result equals an
    /// uninterrupted run bit for bit.
    /// </summary>
    /// <param name="model">The pre-trained model; its buffers (BatchNorm statistics) are set from the checkpoint.</param>
    /// <param name="train">Training data (the same as before).</param>
    /// <param name="test">Test data; none when null.</param>
    /// <param name="progress">Progress reports.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="InvalidOperationException">No checkpoint folder is set.</exception>
    /// <exception cref="ArgumentException">The checkpoint belongs to another model or other options.</exception>
    /// <exception cref="SparsityFormatException">
    /// The checkpoint and its previous generation are both truncated, corrupt or inconsistent (a corrupt newest
    /// one alone is logged and the previous generation is used).
    /// </exception>
    public SearchResult Resume(
        nn.Module<Tensor, Tensor> model,
        IDataset train,
        IDataset? test = null,
        IProgress<SearchProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        var folder = Options.CheckpointFolder ?? throw new InvalidOperationException(
            "Resume needs MaskSearchOptions.CheckpointFolder (the folder the interrupted run wrote to).");
        // The newest generation, or the previous one (logged) when the newest is truncated or corrupt.
        var (parameters, device, state) = SafeTensorsReader.ReadWithFallback(CheckpointPath(folder), path =>
        {
            var names = SearchCheckpoint.ReadNames(path);
            var parameters = ResolveParameters(model, names, null, nameof(model));
            var device = PrepareDevice(model, parameters);
            return (parameters, device, SearchCheckpoint.Read(path, Options, model, parameters, device));
        }, _logger);
        return Run(model, parameters, state, device, train, test, progress, cancellationToken);
    }

    internal static double Overlap(MaskSet initial, MaskSet final) =>
        final.KeptCount == 0 ? 0.0 : MaskOverlap.Compute(initial, final).Total.OverlapRatio;

    private static List<PrunableParameter> ResolveParameters(nn.Module model, IReadOnlyList<string> names, MaskSet? shapes, string paramName)
    {
        // Every Conv/Linear weight (the selector throws, naming "model", when there is none).
        var all = new ParameterSelector(new ParameterSelectorOptions { IncludeConv3d = true }).Select(model);
        var byName = all.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var unknown = names.Where(n => !byName.ContainsKey(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"The {(paramName == "initial" ? "initial mask" : "checkpoint")} names weights this model does not have: {string.Join(", ", unknown)} " +
                $"(the model has {string.Join(", ", byName.Keys)}); was it made for another model?", paramName);
        }

        var selected = names.Select(n => byName[n]).ToList();
        if (shapes is not null)
        {
            var bad = selected.Where(p => !shapes[p.Name].shape.SequenceEqual(p.Weight.shape))
                .Select(p => $"'{p.Name}' mask [{string.Join(", ", shapes[p.Name].shape)}] vs weight [{string.Join(", ", p.Weight.shape)}]").ToList();
            if (bad.Count > 0)
            {
                throw new ArgumentException($"The initial mask does not fit this model: {string.Join("; ", bad)}; was it made for another model?", paramName);
            }
        }

        return selected;
    }

    private Device PrepareDevice(nn.Module model, IReadOnlyList<PrunableParameter> parameters)
    {
        var device = Options.Device ?? parameters[0].Weight.device;
        if (!parameters[0].Weight.device.SameAs(device))
        {
            model.to(device);
        }

        return device;
    }

    /// <summary>
    /// The initial mask made to satisfy <see cref="MaskSearchOptions.Constraint"/> (per-layer kept counts unchanged,
    /// rebalanced by the initial scores: highest free score switched on first, lowest switched off first); null without a constraint.
    /// </summary>
    private InitialMask? Constrain(InitialMask initial)
    {
        if (Options.Constraint is not { } constraint)
        {
            return null;
        }

        ValidateConstraint(constraint, initial.Mask);
        var mask = constraint.Apply(initial.Mask, priority: initial.Scores);
        return new InitialMask(initial.Scores.Clone(), mask);
    }

    private static void ValidateConstraint(MaskConstraint constraint, MaskSet masks)
    {
        try
        {
            constraint.Validate(masks);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(
                $"MaskSearchOptions.Constraint does not fit the searched weights ({string.Join(", ", masks.Names)}): {e.Message} " +
                "Was it made for another model, another selection of weights or a sparser mask?",
                nameof(MaskSearchOptions.Constraint), e);
        }
    }

    private static void ValidateStart(InitialMask start, MaskSet initial)
    {
        foreach (var name in initial.Names)
        {
            if (!start.Mask.Contains(name) || start.Mask.KeptIn(name) != initial.KeptIn(name) || !start.Scores.Contains(name))
            {
                throw new InvalidOperationException(
                    $"The score initializer changed the kept count or dropped layer '{name}'; it must keep the initial mask's per-layer counts.");
            }
        }
    }

    private SearchResult Run(
        nn.Module<Tensor, Tensor> model,
        IReadOnlyList<PrunableParameter> parameters,
        SearchState state,
        Device device,
        IDataset train,
        IDataset? test,
        IProgress<SearchProgress>? progress,
        CancellationToken cancellationToken)
    {
        var o = Options;
        var modes = TrainingModes.Capture(model);
        var flags = model.parameters().Select(p => (Parameter: p, p.requires_grad)).ToList();
        using var startMasks = state.CurrentMasks();
        using var one = 1.ToScalar(); // the loss sum's alpha, disposed here rather than one finalizable Scalar per step
        if (o.Constraint is { } constraint)
        {
            ValidateConstraint(constraint, startMasks);
        }

        var masked = MaskedModel.Attach(model, startMasks, parameters);
        var step = new SearchStep(o, state, masked, parameters, device);
        try
        {
            foreach (var (p, _) in flags)
            {
                p.requires_grad = false;
                p.grad = null; // a stale gradient (e.g. from pre-training) would leak into the first step
            }

            foreach (var p in parameters)
            {
                p.Weight.requires_grad = true;
            }

            long stepsPerEpoch = StepsPerEpoch(train.Count, o.BatchSize);
            for (int epoch = state.EpochsDone; epoch < o.Epochs; epoch++)
            {
                long seed = unchecked(o.Seed * 1000003L + epoch);
                random.manual_seed(seed);
                model.train();
                if (o.BatchNorm == BatchNormPolicy.Freeze)
                {
                    TrainingModes.SetNormLayers(model, training: false);
                }

                double lr = o.LearningRateAt(epoch);
                long steps = 0;
                using var lossSum = zeros(1, ScalarType.Float64, device);
                using var lossGuard = new NonFiniteLossGuard(device, epoch);
                var watch = Stopwatch.StartNew();
                foreach (var batch in train.Batches(o.BatchSize, device, shuffleSeed: seed))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var logits = model.call(batch.Inputs);
                    if (steps == 0 && (logits.dim() != 2 || logits.shape[1] < train.ClassCount))
                    {
                        throw new ArgumentException(
                            $"The model outputs shape [{string.Join(", ", logits.shape)}] but the data has {train.ClassCount} classes; expected N×{train.ClassCount} logits.",
                            nameof(model));
                    }

                    var loss = nn.functional.cross_entropy(logits, batch.Labels);
                    lossGuard.Record(loss, steps);
                    loss.backward();
                    using (no_grad())
                    {
                        lossSum.add_(loss.detach(), one);
                        step.Run(lr, epoch);
                        StepObserver?.Invoke(masked, state);
                    }

                    steps++;
                    if (progress is not null && steps % o.ProgressInterval == 0)
                    {
                        lossGuard.ThrowIfSeen();
                        progress.Report(new SearchProgress(epoch + 1, o.Epochs, steps, stepsPerEpoch, lossSum.item<double>() / steps, null));
                    }
                }

                var (accepted, refused) = step.EndEpoch();
                watch.Stop();
                lossGuard.ThrowIfSeen();
                double? accuracy = o.EvaluateEveryEpoch && test is not null
                    ? Evaluator.Evaluate(model, test, o.EvaluationBatchSize, device, cancellationToken).Accuracy
                    : null;
                using var current = masked.Snapshot();
                var summary = new SearchEpoch(epoch + 1, lr, steps == 0 ? double.NaN : lossSum.item<double>() / steps, accuracy,
                    accepted, refused, Overlap(state.InitialMasks, current), watch.Elapsed.TotalSeconds, steps);
                if (!double.IsFinite(summary.TrainLoss))
                {
                    throw new InvalidOperationException($"The training loss of epoch {epoch + 1} is {summary.TrainLoss}; the search diverged (lower LearningRate).");
                }

                state.History.Add(summary);
                state.EpochsDone = epoch + 1;
                if (o.CheckpointFolder is { } folder)
                {
                    SearchCheckpoint.Write(CheckpointPath(folder), state, o, model, parameters, current);
                }

                _logger.LogInformation(
                    "Search epoch {Epoch}/{Epochs}: lr {LearningRate:G4}, loss {Loss:F4}, test accuracy {Accuracy}, flips {Accepted} accepted / {Refused} refused, overlap with initial {Overlap:P2}, {Seconds:F2} s",
                    summary.Epoch, o.Epochs, lr, summary.TrainLoss, accuracy?.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) ?? "n/a",
                    accepted, refused, summary.OverlapWithInitial, summary.Seconds);
                progress?.Report(new SearchProgress(epoch + 1, o.Epochs, steps, stepsPerEpoch, summary.TrainLoss, summary));
            }

            if (o.BatchNorm == BatchNormPolicy.RecalibrateAfter)
            {
                BatchNormRecalibration.Run(model, train, o.BatchSize, device, cancellationToken);
            }

            double? final = test is not null ? Evaluator.Evaluate(model, test, o.EvaluationBatchSize, device, cancellationToken).Accuracy : null;
            var masks = masked.Snapshot();
            return new SearchResult(masks, state.CloneScores(), state.InitialMasks.Clone(), state.History.ToList(), o, final, state.Statistics());
        }
        finally
        {
            masked.Dispose();
            foreach (var (p, requiresGrad) in flags)
            {
                p.requires_grad = requiresGrad;
                p.grad = null;
            }

            modes.Restore();
            step.Dispose();
            state.Dispose();
        }
    }

    private static long StepsPerEpoch(long count, int batchSize) => (count + batchSize - 1) / batchSize;
}
