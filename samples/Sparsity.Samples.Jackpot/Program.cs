using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sparsity;
using Sparsity.Data;
using Sparsity.Models;
using Sparsity.Samples;
using Sparsity.Samples.Jackpot;
using Sparsity.Search;
using Sparsity.Training;
using static TorchSharp.torch;

// Lottery-jackpot reproduction (issue 5):
//   dotnet run -c Release --project samples/Sparsity.Samples.Jackpot -- --model lenet300 --sparsity 0.9 --epochs 5 --seed 0 [--data DIR] --out DIR
// Without --data the embedded Fashion-MNIST subset (6,000 / 1,000 images) is used, so a run without arguments
// finishes in a few minutes; --data DIR reads the four IDX files from DIR, --data auto uses the library's
// discovery order (SPARSITY_DATA, /usr/share/datasets/fashion-mnist, then the subset).
JackpotArguments a;
try
{
    a = JackpotArguments.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(JackpotArguments.Usage);
    return 2;
}

if (a.Help)
{
    Console.WriteLine(JackpotArguments.Usage);
    return 0;
}

using var cts = SampleConsole.CancelOnCtrlC();
var device = a.Device;
Directory.CreateDirectory(a.Out);

// Data: the embedded subset unless a folder (or "auto") is given.
using var data = a.Data switch
{
    null => FashionMnist.Load(Path.Combine(a.Out, ".no-fashion-mnist-folder")), // no such folder → the embedded subset
    "auto" => FashionMnist.Load(),
    var folder => FashionMnist.Load(folder, allowEmbedded: false),
};
Console.WriteLine($"data: {data.Source} ({data.Train.Count:N0} train, {data.Test.Count:N0} test) from {data.Location}");

// 1. Pre-trained dense model (reference recipe, cached).
var recipe = TrainingOptions.ReferenceRecipe with { Epochs = a.DenseEpochs, Seed = a.Seed, Device = device };
var pretrained = Pretrained.GetOrTrain(() => ReferenceModels.Create(a.Model, 1, FashionMnist.ClassCount), a.Model, data, a.Cache, recipe,
    cancellationToken: cts.Token);
using var model = pretrained.Model;
Console.WriteLine($"dense {a.Model}: {pretrained.TestAccuracy:F2} % ({(pretrained.FromCache ? "cached" : "trained")}, {pretrained.Path})");

// 2. Global magnitude mask over every Conv/Linear weight except the classifier (LJ budget), no retraining.
var parameters = new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = true }).Select(model);
using var initial = GlobalMagnitude.Initialize(parameters, a.Sparsity);
double magnitudeAccuracy;
using (MaskedModel.Attach(model, initial.Mask, parameters))
{
    magnitudeAccuracy = Evaluator.Evaluate(model, data.Test, device: device).Accuracy;
}

Console.WriteLine($"magnitude mask at sparsity {a.Sparsity}: {magnitudeAccuracy:F2} % (kept {initial.Mask.KeptCount:N0} of {initial.Mask.TotalCount:N0})");

// 3. The search.
var options = new MaskSearchOptions
{
    Epochs = a.Epochs,
    Seed = a.Seed,
    BatchSize = a.BatchSize,
    LearningRate = a.LearningRate,
    Device = device,
    BatchNorm = a.BatchNorm,
    Restriction = a.Restriction,
    ScoreInitializer = a.Init == "random" ? new RandomScoreInitializer(a.Seed) : OfficialScoreInitializer.Instance,
    CheckpointFolder = Path.Combine(a.Out, "search"),
};
var searcher = new MaskSearcher(options, new ConsoleLogger<MaskSearcher>());
SearchResult result;
try
{
    result = File.Exists(MaskSearcher.CheckpointPath(options.CheckpointFolder)) && a.Resume
        ? searcher.Resume(model, data.Train, data.Test, null, cts.Token)
        : searcher.Search(model, initial, data.Train, data.Test, null, cts.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine($"cancelled; rerun with --resume to continue from {options.CheckpointFolder}");
    return 130;
}

using (result)
{
    var accuracies = result.History.Select(h => h.TestAccuracy ?? double.NaN).ToList();
    int? reach = accuracies.Select((acc, i) => (acc, i)).Where(x => x.acc >= pretrained.TestAccuracy - 1.0).Select(x => (int?)(x.i + 1)).FirstOrDefault();
    result.Masks.Save(Path.Combine(a.Out, "jackpot.masks.safetensors"));
    var json = new JsonObject
    {
        ["model"] = a.Model,
        ["sparsity"] = a.Sparsity,
        ["seed"] = a.Seed,
        ["dataset"] = data.Source,
        ["device"] = device.ToString(),
        ["dense"] = new JsonObject
        {
            ["test_accuracy"] = pretrained.TestAccuracy,
            ["seconds_per_epoch"] = Array(pretrained.SecondsPerEpoch),
            ["epochs"] = pretrained.Epochs.Count,
            ["batch_size"] = recipe.BatchSize,
            ["from_cache"] = pretrained.FromCache,
        },
        ["magnitude"] = new JsonObject
        {
            ["test_accuracy"] = magnitudeAccuracy,
            ["kept"] = initial.Mask.KeptCount,
            ["total"] = initial.Mask.TotalCount,
            ["layers"] = new JsonArray(initial.Mask.Layers.Select(l => (JsonNode)new JsonObject { ["name"] = l.Name, ["kept"] = l.Kept, ["total"] = l.Total }).ToArray()),
        },
        ["search"] = new JsonObject
        {
            ["test_accuracy"] = Array(accuracies),
            ["final_test_accuracy"] = result.FinalTestAccuracy,
            ["seconds_per_epoch"] = Array(result.History.Select(h => h.Seconds)),
            ["train_loss"] = Array(result.History.Select(h => h.TrainLoss)),
            ["flips_accepted"] = new JsonArray(result.History.Select(h => (JsonNode)h.FlipsAccepted).ToArray()),
            ["flips_refused"] = new JsonArray(result.History.Select(h => (JsonNode)h.FlipsRefused).ToArray()),
            ["overlap_with_initial"] = result.OverlapWithInitial,
            ["overlap_with_initial_per_epoch"] = Array(result.History.Select(h => h.OverlapWithInitial)),
            ["restriction"] = a.Restriction.Name,
            ["restriction_description"] = a.Restriction.Description,
            ["init"] = a.Init,
            ["epochs"] = a.Epochs,
            ["batch_size"] = a.BatchSize,
            ["learning_rate"] = a.LearningRate,
            ["batch_norm"] = a.BatchNorm.ToString(),
            ["epochs_to_dense_minus_1"] = reach,
            ["selection"] = new JsonObject
            {
                ["count_hits"] = result.Selection.CountHits,
                ["band_hits"] = result.Selection.BandHits,
                ["exact"] = result.Selection.ExactSelections,
            },
        },
    };
    var path = Path.Combine(a.Out, "results.json");
    ResultFiles.WriteJson(path, json);
    SampleConsole.Table($"Lottery jackpot, {a.Model}, sparsity {a.Sparsity}, {data.Source}", ["", "test accuracy (%)", "s / epoch"],
    [
        ["dense", F(pretrained.TestAccuracy), F(pretrained.SecondsPerEpoch.Average())],
        ["magnitude (no retraining)", F(magnitudeAccuracy), ""],
        .. result.History.Select(h => (IReadOnlyList<string>)[$"search epoch {h.Epoch}", F(h.TestAccuracy ?? double.NaN), F(h.Seconds)]),
    ]);
    Console.WriteLine($"wrote {path}");
}

return 0;

static JsonArray Array(IEnumerable<double> values) => new(values.Select(v => (JsonNode)v).ToArray());

static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);

/// <summary>Global magnitude initial mask: |W| scores, one threshold over the searched layers (LJ budget).</summary>
internal static class GlobalMagnitude
{
    public static InitialMask Initialize(IReadOnlyList<PrunableParameter> parameters, double sparsity)
    {
        var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
        return new InitialMask(scores, new GlobalAllocation().Allocate(scores, sparsity));
    }
}

/// <summary>Writes log lines to the console.</summary>
internal sealed class ConsoleLogger<T> : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Console.WriteLine(formatter(state, exception));
        }
    }
}
