using System.CommandLine;
using Sparsity.Models;
using Sparsity.Search;
using static TorchSharp.torch;

namespace Sparsity.Samples.Jackpot;

/// <summary>The main job's options, parsed by System.CommandLine (<c>--help</c> lists them).</summary>
internal sealed record JackpotOptions
{
    public static readonly string[] Models = ["lenet300", "lenet5", "resnet20"];
    public static readonly string[] AllCriteria = ["magnitude", "snip", "grasp", "synflow", "random"];

    public required string Model { get; init; }
    public required IReadOnlyList<double> Sparsities { get; init; }
    public required int Epochs { get; init; }
    public required long Seed { get; init; }
    public required string? Data { get; init; }
    public required string Out { get; init; }
    public required string Cache { get; init; }
    public required int DenseEpochs { get; init; }
    public required IRestrictionPolicy Restriction { get; init; }
    public required string Init { get; init; }
    public required int BatchSize { get; init; }
    public required double LearningRate { get; init; }
    public required BatchNormPolicy BatchNorm { get; init; }
    public required Device Device { get; init; }
    public required IReadOnlyList<string> Criteria { get; init; }
    public required int ScoreBatches { get; init; }
    public required bool Resume { get; init; }
    public required int SpeedRounds { get; init; }
    public required int? Threads { get; init; }

    /// <summary>Builds the command; <paramref name="run"/> receives the parsed options.</summary>
    public static RootCommand Command(Func<JackpotOptions, CancellationToken, int> run)
    {
        var model = new Option<string>("--model") { Description = "Reference model", DefaultValueFactory = _ => "lenet300" };
        model.AcceptOnlyFromAmong(Models);
        var sparsity = new Option<double[]>("--sparsity")
        {
            Description = "Sparsity (fraction of the searched weights removed), one or more values in [0, 1)",
            DefaultValueFactory = _ => [0.9],
            AllowMultipleArgumentsPerToken = true,
        };
        sparsity.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double[]>()?.Any(s => !(s >= 0 && s < 1)) == true)
                r.AddError("--sparsity values must lie in [0, 1), for example --sparsity 0.9 0.98.");
        });
        var epochs = Positive(new Option<int>("--epochs") { Description = "Search epochs", DefaultValueFactory = _ => 5 });
        var seed = new Option<long>("--seed") { Description = "Seed of pre-training, scoring and search", DefaultValueFactory = _ => 0 };
        var data = new Option<string?>("--data")
        {
            Description = "Fashion-MNIST folder with the four IDX files, or 'auto' (SPARSITY_DATA, /usr/share/datasets/fashion-mnist, then the subset); default: the embedded 6,000/1,000 subset",
        };
        var output = new Option<string>("--out") { Description = "Output folder (masks, results.json/csv, plots)", DefaultValueFactory = _ => "results" };
        var cache = new Option<string>("--cache") { Description = "Pre-trained model cache", DefaultValueFactory = _ => Path.Combine(".cache", "pretrained") };
        var denseEpochs = Positive(new Option<int>("--dense-epochs") { Description = "Pre-training epochs (reference recipe)", DefaultValueFactory = _ => 10 });
        var restriction = new Option<string>("--restriction") { Description = "Mask-update restriction", DefaultValueFactory = _ => "short" };
        restriction.AcceptOnlyFromAmong("short", "none");
        var schedule = new Option<string>("--schedule")
        {
            Description = "Short-restriction schedule: official (ceil, = 1 every epoch), decaying ((1 - e/E)^4) or constant:F",
            DefaultValueFactory = _ => "official",
        };
        var init = new Option<string>("--init") { Description = "Score initialisation (magnitude = official 1.0/0.99)", DefaultValueFactory = _ => "magnitude" };
        init.AcceptOnlyFromAmong("magnitude", "random");
        var batchSize = Positive(new Option<int>("--batch-size") { Description = "Search batch size", DefaultValueFactory = _ => 256 });
        var lr = new Option<double>("--lr") { Description = "Search learning rate", DefaultValueFactory = _ => 0.1 };
        var bn = new Option<string>("--bn") { Description = "BatchNorm statistics: update (official: running statistics follow the search), freeze, or recalibrate (update, then one pass over the training data under the final mask)", DefaultValueFactory = _ => "recalibrate" };
        bn.AcceptOnlyFromAmong("update", "freeze", "recalibrate");
        var device = new Option<string>("--device") { Description = "Device (cpu, cuda, cuda:1)", DefaultValueFactory = _ => "cpu" };
        var criteria = new Option<string[]>("--criteria")
        {
            Description = "Criteria to compare without retraining",
            DefaultValueFactory = _ => AllCriteria,
            AllowMultipleArgumentsPerToken = true,
        };
        criteria.AcceptOnlyFromAmong(AllCriteria);
        var scoreBatches = Positive(new Option<int>("--score-batches") { Description = "Batches of 128 that SNIP and GraSP see", DefaultValueFactory = _ => 4 });
        var resume = new Option<bool>("--resume") { Description = "Continue an interrupted search from its checkpoint" };
        var speedRounds = new Option<int>("--speed-rounds")
        {
            Description = "After the run, time this many interleaved dense and search epochs at the search batch size (0 = skip)",
            DefaultValueFactory = _ => 0,
        };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads (default: libtorch's choice)" };

        var command = new RootCommand(
            "Lottery jackpots on Fashion-MNIST: pre-train (or reuse), compare pruning criteria without retraining, " +
            "search a jackpot mask from the magnitude mask, and write masks, results and plots.")
        {
            model, sparsity, epochs, seed, data, output, cache, denseEpochs, restriction, schedule, init, batchSize, lr, bn, device,
            criteria, scoreBatches, resume, speedRounds, threads,
        };
        command.SetAction((result, token) =>
        {
            var options = new JackpotOptions
            {
                Model = result.GetValue(model)!,
                Sparsities = result.GetValue(sparsity)!,
                Epochs = result.GetValue(epochs),
                Seed = result.GetValue(seed),
                Data = result.GetValue(data),
                Out = result.GetValue(output)!,
                Cache = result.GetValue(cache)!,
                DenseEpochs = result.GetValue(denseEpochs),
                Restriction = result.GetValue(restriction) == "none" ? NoRestriction.Instance : new ShortRestriction(Schedule(result.GetValue(schedule)!)),
                Init = result.GetValue(init)!,
                BatchSize = result.GetValue(batchSize),
                LearningRate = result.GetValue(lr),
                BatchNorm = result.GetValue(bn) switch
                {
                    "freeze" => BatchNormPolicy.Freeze,
                    "recalibrate" => BatchNormPolicy.RecalibrateAfter,
                    _ => BatchNormPolicy.UpdateRunningStatistics,
                },
                Device = new Device(result.GetValue(device)!),
                Criteria = result.GetValue(criteria)!.Distinct().ToList(),
                ScoreBatches = result.GetValue(scoreBatches),
                Resume = result.GetValue(resume),
                SpeedRounds = Math.Max(0, result.GetValue(speedRounds)),
                Threads = result.GetValue(threads),
            };
            return Task.FromResult(run(options, token));
        });
        return command;
    }

    /// <summary>Builds the reference model.</summary>
    public nn.Module<Tensor, Tensor> CreateModel() => ReferenceModels.Create(Model, inputChannels: 1, classCount: 10);

    private static RestrictionSchedule Schedule(string text) => text switch
    {
        "official" => RestrictionSchedule.Official,
        "decaying" => RestrictionSchedule.Decaying,
        _ when text.StartsWith("constant:", StringComparison.Ordinal)
            && double.TryParse(text["constant:".Length..], System.Globalization.CultureInfo.InvariantCulture, out var f) => RestrictionSchedule.Constant(f),
        _ => throw new ArgumentException($"--schedule must be official, decaying or constant:F (0 < F ≤ 1), not '{text}'."),
    };

    private static Option<int> Positive(Option<int> option)
    {
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError($"{option.Name} must be at least 1.");
        });
        return option;
    }
}
