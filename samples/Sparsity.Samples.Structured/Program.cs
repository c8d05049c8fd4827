using System.Globalization;
using System.Text.Json.Nodes;
using Sparsity.Analysis;
using Sparsity.Data;
using Sparsity.Models;
using Sparsity.Samples;
using Sparsity.Samples.Structured;
using Sparsity.Search;
using Sparsity.Structured;
using Sparsity.Training;
using static TorchSharp.torch;

StructuredOptions? options;
try
{
    options = StructuredOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

if (options is null)
{
    return 0;
}

set_num_threads(options.Threads);
using var cancel = SampleConsole.CancelOnCtrlC();
using var data = options.Data is null ? EmbeddedFashionMnist.Load() : FashionMnist.Load(options.Data);
var train = options.TrainLimit > 0 && options.TrainLimit < data.Train.Count ? data.Train.Subset(options.TrainLimit) : data.Train;
var test = options.TestLimit > 0 && options.TestLimit < data.Test.Count ? data.Test.Subset(options.TestLimit) : data.Test;
var source = data.Source + (options.TrainLimit > 0 ? $"-first{train.Count}" : string.Empty) + (options.TestLimit > 0 ? $"-test{test.Count}" : string.Empty);
Console.WriteLine($"Data: {source} ({train.Count} train, {test.Count} test); libtorch threads: {options.Threads}.");

var recipe = TrainingOptions.ReferenceRecipe with { Epochs = options.PretrainEpochs };
var pretrained = Pretrained.GetOrTrain(() => new CifarResNet(20, 1, 10), "resnet20", train, test, source, ".cache/pretrained", recipe,
    cancellationToken: cancel.Token);
var dense = pretrained.Model;
dense.eval();
var denseState = dense.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
long[] inputShape = [1, 1, 28, 28];

var denseRow = Measure(dense, "dense", 0, 0, Evaluator.Evaluate(dense, test).Accuracy, double.NaN, 0);
var rows = new List<Row>();
foreach (var sparsity in options.Sparsities)
{
    // Seed by seed, both methods each, so that an interrupted run still holds comparable pairs.
    foreach (var seed in options.Seeds)
    {
        foreach (var method in options.Methods.Where(m => m != "l1" || options.FinetuneEpochs > 0 || seed == options.Seeds[0]))
        {
            cancel.Token.ThrowIfCancellationRequested();
            using var model = Fresh();
            var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = inputShape }).Discover(model);
            var l1 = new L1FilterCriterion().Score(model, graph);
            var mask = ChannelAllocation.Allocate(graph, l1, sparsity);
            if (method == "jackpot")
            {
                var search = new ChannelJackpotSearcher(new ChannelJackpotOptions
                {
                    Epochs = options.SearchEpochs, Seed = seed, MaxStepsPerEpoch = options.SearchStepsPerEpoch, BatchNorm = options.SearchBatchNorm,
                });
                mask = search.Search(model, graph, mask, l1, train, cancellationToken: cancel.Token).Mask;
            }

            new ChannelCompactor().Compact(model, graph, mask);
            if (method == "l1" && options.RecalibrateBatchNorm)
            {
                BatchNormRecalibration.Run(model, train, batchSize: 128, cancellationToken: cancel.Token); // the search's batch size
            }

            var noFinetune = Evaluator.Evaluate(model, test).Accuracy;
            var finetuned = double.NaN;
            if (options.FinetuneEpochs > 0)
            {
                manual_seed(seed);
                var tune = TrainingOptions.ReferenceRecipe with { Epochs = options.FinetuneEpochs, LearningRate = options.FinetuneLearningRate, Seed = seed };
                new Trainer().Train(model, train, test, tune, cancellationToken: cancel.Token);
                model.eval();
                finetuned = Evaluator.Evaluate(model, test).Accuracy;
            }

            var channels = (double)mask.RemovedChannelCount / graph.PrunableChannelCount;
            rows.Add(Measure(model, method, sparsity, seed, noFinetune, finetuned, options.FinetuneEpochs));
            WriteResults();
            Console.WriteLine(FormattableString.Invariant($"{method} {sparsity:P0} seed {seed}: {noFinetune:F2} %") + (double.IsNaN(finetuned) ? string.Empty : FormattableString.Invariant($" → {finetuned:F2} % after fine-tuning")) +
                FormattableString.Invariant($" ({channels:P1} of prunable channels removed)"));
        }
    }
}

SampleConsole.Table("ResNet-20, structured channel pruning",
    ["method", "sparsity", "seed", "acc. no FT", "acc. FT", "params", "MFLOPs", "ms b1", "ms b128", "speed-up b128"],
    new[] { denseRow }.Concat(rows).Select(r => (IReadOnlyList<string>)[r.Method, Fmt(r.Sparsity, "P0"), r.Seed.ToString(CultureInfo.InvariantCulture), Fmt(r.AccuracyNoFinetune, "F2"),
        Fmt(r.AccuracyFinetuned, "F2"), r.Params.ToString("N0", CultureInfo.InvariantCulture), Fmt(r.Flops / 1e6, "F1"), Fmt(r.LatencyB1, "F2"),
        Fmt(r.LatencyB128, "F1"), Fmt(denseRow.LatencyB128 / r.LatencyB128, "F2")]));

WriteResults();
Plots.Lines(Path.Combine(options.Output, "accuracy-vs-latency.png"), "ResNet-20: accuracy against latency (batch 128, measured)", "latency at batch 128 (ms)",
    "test accuracy (%)", options.Methods.Select(m => new PlotSeries(m,
        new[] { denseRow.LatencyB128 }.Concat(rows.Where(r => r.Method == m).Select(r => r.LatencyB128)).ToArray(),
        new[] { denseRow.AccuracyNoFinetune }.Concat(rows.Where(r => r.Method == m).Select(r => double.IsNaN(r.AccuracyFinetuned) ? r.AccuracyNoFinetune : r.AccuracyFinetuned)).ToArray())));
Console.WriteLine($"Wrote {options.Json} and {Path.Combine(options.Output, "accuracy-vs-latency.png")}.");
return 0;

// Rewritten after every run, so that a long run's finished rows survive an interruption.
void WriteResults()
{
    Directory.CreateDirectory(options.Output);
    var json = new JsonObject
    {
        ["dense"] = new JsonObject
        {
            ["accuracy"] = denseRow.AccuracyNoFinetune, ["params"] = denseRow.Params, ["flops"] = denseRow.Flops,
            ["latency_ms_b1"] = denseRow.LatencyB1, ["latency_ms_b128"] = denseRow.LatencyB128,
        },
        ["runs"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
        {
            ["method"] = r.Method, ["channel_sparsity"] = r.Sparsity, ["seed"] = r.Seed,
            ["accuracy_no_finetune"] = r.AccuracyNoFinetune, ["accuracy_finetuned"] = double.IsNaN(r.AccuracyFinetuned) ? null : r.AccuracyFinetuned,
            ["finetune_epochs"] = r.FinetuneEpochs, ["params"] = r.Params, ["flops"] = r.Flops,
            ["batchnorm_recalibrated_before_no_finetune"] = r.Method == "jackpot" ? options.SearchBatchNorm == BatchNormPolicy.RecalibrateAfter : options.RecalibrateBatchNorm,
            ["latency_ms_b1"] = r.LatencyB1, ["latency_ms_b128"] = r.LatencyB128,
        }).ToArray()),
        ["data"] = source,
        ["threads"] = options.Threads,
        ["command"] = "dotnet run -c Release --project samples/Sparsity.Samples.Structured -- " + string.Join(' ', args),
    };
    var jsonFolder = Path.GetDirectoryName(Path.GetFullPath(options.Json));
    Directory.CreateDirectory(jsonFolder!);
    ResultFiles.WriteJson(options.Json, json);
}

nn.Module<Tensor, Tensor> Fresh()
{
    var model = new CifarResNet(20, 1, 10);
    using (no_grad())
    {
        foreach (var (key, value) in model.state_dict())
        {
            value.copy_(denseState[key]);
        }
    }

    model.eval();
    return model;
}

Row Measure(nn.Module<Tensor, Tensor> model, string method, double sparsity, int seed, double noFinetune, double finetuned, int epochs)
{
    model.eval();
    var cost = ModelCost.Measure(model, inputShape);
    return new Row(method, sparsity, seed, noFinetune, finetuned, epochs, cost.Parameters, cost.Flops,
        ForwardLatency.MedianMs(model, 1, options.LatencyRepeats * 5, warmup: 3), ForwardLatency.MedianMs(model, 128, options.LatencyRepeats, warmup: 3));
}

static string Fmt(double v, string format) => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

internal sealed record Row(string Method, double Sparsity, int Seed, double AccuracyNoFinetune, double AccuracyFinetuned, int FinetuneEpochs,
    long Params, long Flops, double LatencyB1, double LatencyB128);
