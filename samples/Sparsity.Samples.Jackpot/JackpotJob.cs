using System.Globalization;
using System.Text.Json.Nodes;
using Sparsity.Analysis;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.Search;
using Sparsity.Training;
using static TorchSharp.torch;

namespace Sparsity.Samples.Jackpot;

/// <summary>One search run: the jackpot at one sparsity, with its per-epoch history.</summary>
internal sealed record JackpotRun(double Sparsity, double MagnitudeAccuracy, SearchResult Search);

/// <summary>The steps of the main job, in order; every long phase shows progress and honours cancellation.</summary>
internal sealed class JackpotJob(JackpotOptions options)
{
    public int Run(CancellationToken cancellationToken)
    {
        try
        {
            return RunSteps(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("Cancelled. Pre-training and search keep their checkpoints; run the same command with --resume to continue.");
            return 130;
        }
    }

    private int RunSteps(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Out);
        if (options.Threads is { } threads) set_num_threads(threads);
        var device = options.Device;
        using var data = options.Data switch
        {
            null => EmbeddedFashionMnist.Load(CPU),
            "auto" => EmbeddedFashionMnist.LoadFullOrEmbedded(CPU),
            var folder => FashionMnist.Load(folder, device: CPU),
        };
        Console.WriteLine($"data: {data.Source} ({data.Train.Count:N0} train / {data.Test.Count:N0} test images) from {data.Location}");

        // 1. The pre-trained dense model (reference recipe; cached by model, recipe and data).
        var recipe = TrainingOptions.ReferenceRecipe with { Epochs = options.DenseEpochs, Seed = options.Seed, Device = device };
        var pretrained = SampleConsole.WithProgress($"pre-training {options.Model}", options.DenseEpochs, report =>
            Pretrained.GetOrTrain(options.CreateModel, options.Model, data, options.Cache, recipe,
                progress: new Progress<TrainingProgress>(p => report(p.Epoch - 1 + ((double)p.Batch / p.BatchCount), $"loss {p.RunningLoss:F3}")),
                cancellationToken: cancellationToken));
        using var model = pretrained.Model;
        Console.WriteLine($"dense {options.Model}: {pretrained.TestAccuracy:F2} % test accuracy ({(pretrained.FromCache ? "from cache" : "trained")}: {pretrained.Path})");

        // 2. Criteria without retraining. The classifier stays dense (as in the Lottery Jackpots code).
        var parameters = new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = true }).Select(model);
        var scoreBatches = OwnedBatches(data.Train, options.ScoreBatches, options.Seed, device);
        var criteria = new List<CriterionResult>();
        var jackpots = new List<JackpotRun>();
        try
        {
            var comparison = new CriterionComparison(model, parameters, scoreBatches, device);
            var work = options.Sparsities.SelectMany(s => options.Criteria.Select(c => (Sparsity: s, Criterion: c))).ToList();
            SampleConsole.WithProgress("scoring criteria", work.Count, report =>
            {
                foreach (var (item, i) in work.Select((w, i) => (w, i)))
                {
                    report(i, $"{item.Criterion} at {item.Sparsity}");
                    criteria.Add(comparison.Run(CriterionComparison.Create(item.Criterion, options.Seed), item.Sparsity, data.Test, cancellationToken));
                }

                return criteria.Count;
            });

            // 3. The jackpot search from the magnitude mask, one run per sparsity.
            foreach (var sparsity in options.Sparsities)
            {
                jackpots.Add(Search(model, data, sparsity, device, cancellationToken));
            }

            // 4 and 5. Costs and latency when shipped; tables, overlap reports, files and plots.
            JsonObject? speed = null;
            if (options.SpeedRounds > 0)
            {
                using var initial = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), options.Sparsities[0])
                    .Initialize(model, new ParameterSelector(new MaskSearchOptions().Parameters).Select(model), [], cancellationToken);
                speed = SpeedCheck.Run(options, pretrained.Path, initial, data.Train, cancellationToken);
            }

            var costs = SampleConsole.WithProgress("measuring costs and latency (dense, masked, compressed, deployed)", 1, _ => DeploymentCost.Measure(options, model, jackpots));
            var report = new JackpotReport(options, data.Source, pretrained, criteria, jackpots, costs, comparison.DenseStepSeconds, speed);
            report.Print();
            report.Write();
            return 0;
        }
        finally
        {
            foreach (var b in scoreBatches) b.Dispose();
            foreach (var c in criteria) c.Mask.Dispose();
            foreach (var j in jackpots) j.Search.Dispose();
        }
    }

    private JackpotRun Search(nn.Module<Tensor, Tensor> model, FashionMnistData data, double sparsity, Device device, CancellationToken cancellationToken)
    {
        var searchOptions = new MaskSearchOptions
        {
            Epochs = options.Epochs,
            Seed = options.Seed,
            BatchSize = options.BatchSize,
            LearningRate = options.LearningRate,
            Device = device,
            BatchNorm = options.BatchNorm,
            Restriction = options.Restriction,
            ScoreInitializer = options.Init == "random" ? new RandomScoreInitializer(options.Seed) : OfficialScoreInitializer.Instance,
            CheckpointFolder = Path.Combine(options.Out, "checkpoints", $"search-{Format(sparsity)}"),
        };
        var searcher = new MaskSearcher(searchOptions);
        var initializer = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), sparsity);
        double magnitudeAccuracy = double.NaN;
        var result = SampleConsole.WithProgress($"jackpot search at sparsity {Format(sparsity)}", options.Epochs, report =>
        {
            var progress = new Progress<SearchProgress>(p => report(
                p.Epoch - 1 + ((double)p.Step / Math.Max(1, p.StepsPerEpoch)),
                p.Completed is { } e ? $"epoch {e.Epoch}: {e.TestAccuracy:F2} %" : $"loss {p.TrainLoss:F3}"));
            var resume = options.Resume && File.Exists(MaskSearcher.CheckpointPath(searchOptions.CheckpointFolder!));
            return resume
                ? searcher.Resume(model, data.Train, data.Test, progress, cancellationToken)
                : searcher.Search(model, initializer, data.Train, data.Test, progress, cancellationToken);
        });
        using (MaskedModel.Attach(model, result.InitialMasks, new ParameterSelector(searchOptions.Parameters).Select(model)))
        {
            magnitudeAccuracy = Evaluator.Evaluate(model, data.Test, device: device, cancellationToken: cancellationToken).Accuracy;
        }

        return new JackpotRun(sparsity, magnitudeAccuracy, result);
    }

    /// <summary>The first <paramref name="count"/> batches of 128 of a seeded shuffle, copied so that the caller owns them.</summary>
    private static List<Batch> OwnedBatches(IDataset data, int count, long seed, Device device) =>
        data.Batches(128, device, shuffleSeed: seed).Take(count).Select(b => new Batch(b.Inputs.clone(), b.Labels.clone())).ToList();

    internal static string Format(double sparsity) => sparsity.ToString("0.###", CultureInfo.InvariantCulture);
}
