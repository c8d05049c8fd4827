// Lottery tickets by iterative magnitude pruning with rewinding (Frankle & Carbin, ICLR 2019), with the
// reinitialised and random-mask controls, on Fashion-MNIST.
//
//   dotnet run -c Release --project samples/Sparsity.Samples.Tickets -- --model lenet300 --levels 15 --epochs 10 \
//       --rewind init --controls every:3 --seed 0 --out runs/tickets
//
// Writes OUT/tickets.json, OUT/ticket.safetensors (the final ticket: <param>_mask + rewound weights),
// OUT/tickets.png (test accuracy against density, log scale) and OUT/checkpoints (resumable: run the same
// command again after Ctrl+C).
using System.Globalization;
using System.Text.Json.Nodes;
using Sparsity;
using Sparsity.Data;
using Sparsity.Models;
using Sparsity.Samples;
using Sparsity.Search.Tickets;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

var inv = CultureInfo.InvariantCulture;
var args_ = Args.Parse(args);
if (args_ is null)
{
    Console.Error.WriteLine(Args.Usage);
    return 2;
}

var a = args_;
var device = a.Device == "cuda" ? CUDA : CPU;
using var cancel = SampleConsole.CancelOnCtrlC();
using var data = a.Data is null ? EmbeddedFashionMnist.LoadFullOrEmbedded() : FashionMnist.Load(a.Data);
Console.WriteLine($"Data: {data.Source} ({data.Train.Count:N0} train / {data.Test.Count:N0} test) from {data.Location}");
IDataset train = a.TrainSubset is { } n ? data.Train.Subset(n, a.Seed) : data.Train;

nn.Module<Tensor, Tensor> NewModel(long seed)
{
    manual_seed(seed);
    var m = ReferenceModels.Create(a.Model, 1, FashionMnist.ClassCount);
    m.to(device);
    return m;
}

var model = NewModel(a.Seed);
var recipe = TrainingOptions.ReferenceRecipe with { Epochs = a.Epochs, Seed = a.Seed, Device = device };
var trainer = new TrainerLevelTrainer(train, data.Test, recipe);
var options = new IterativeMagnitudePruningOptions
{
    Levels = a.Levels,
    Rewind = a.Rewind,
    ControlEvery = a.ControlEvery,
    ControlLevels = a.ControlEvery > 0 ? [a.Levels] : [],
    ReinitializeControl = a.ControlEvery > 0,
    RandomMaskControl = a.ControlEvery > 0,
    ControlSeed = a.Seed + 1,
    RateLadder = a.Ladder,
    LadderTolerance = a.Tolerance,
    // The reinitialised control draws a fresh model of the same architecture with another seed.
    Reinitializer = (m, seed) =>
    {
        var state = m.state_dict();
        using var fresh = NewModel(seed);
        using (no_grad())
        {
            foreach (var (key, value) in fresh.state_dict())
            {
                state[key].copy_(value);
            }
        }
    },
};

int runs = 1 + a.Levels + Enumerable.Range(1, a.Levels).Count(options.ControlsAt) * 2;
double total = (double)runs * a.Epochs;
var checkpoints = Path.Combine(a.Out, "checkpoints");
var result = SampleConsole.WithProgress($"IMP {a.Model}, {a.Levels} levels × {a.Epochs} epochs, rewind {a.Rewind}", total, report =>
{
    int done = 0;
    var progress = new Sync<IterativeMagnitudePruningProgress>(p =>
    {
        done++;
        report(Math.Min(done, total), $"level {p.Level} {p.Phase} density {100 * p.Density:F2} % epoch {p.EpochIndex}/{p.EpochCount}: {p.TestAccuracy:F2} %");
    });
    return new IterativeMagnitudePruning(options).Run(model, trainer, checkpoints, progress, cancel.Token);
});

using (result)
{
    var levels = new JsonArray();
    foreach (var r in result.Levels.Where(r => r.Level > 0))
    {
        var o = new JsonObject
        {
            ["level"] = r.Level,
            ["fraction"] = r.Fraction,
            ["density"] = r.Density,
            ["ticket"] = r.TestAccuracy,
            ["seconds"] = r.Seconds,
        };
        if (r.Reinitialized is { } re) o["reinit"] = re.TestAccuracy;
        if (r.RandomMask is { } rm) o["random_mask"] = rm.TestAccuracy;
        levels.Add(o);
    }

    var json = new JsonObject
    {
        ["model"] = a.Model,
        ["data"] = data.Source,
        ["train_examples"] = train.Count,
        ["rewind"] = a.Rewind.ToString(),
        ["epochs"] = a.Epochs,
        ["seed"] = a.Seed,
        ["fraction_per_level"] = options.FractionPerLevel,
        ["stop_reason"] = result.StopReason.ToString(),
        ["dense_accuracy"] = result.DenseAccuracy,
        ["dense_seconds"] = result.DenseSeconds,
        ["levels"] = levels,
        ["undone"] = new JsonArray(result.History.Where(r => !r.Accepted).Select(r => (JsonNode)new JsonObject
        {
            ["level"] = r.Level,
            ["fraction"] = r.Fraction,
            ["density"] = r.Density,
            ["ticket"] = r.TestAccuracy,
        }).ToArray()),
    };
    ResultFiles.WriteJson(Path.Combine(a.Out, "tickets.json"), json);
    var finalTicket = Path.Combine(checkpoints, TicketCheckpoint.TicketFileName(result.Final.Level));
    if (File.Exists(finalTicket))
    {
        File.Copy(finalTicket, Path.Combine(a.Out, "ticket.safetensors"), overwrite: true);
    }

    var kept = result.Levels.Where(r => r.Level > 0).ToList();
    if (kept.Count > 0)
    {
        var series = new List<PlotSeries>
        {
            new("ticket", kept.Select(r => 100 * r.Density).ToList(), kept.Select(r => r.TestAccuracy).ToList()),
            new("dense", [100.0, 100 * kept.Min(r => r.Density)], [result.DenseAccuracy, result.DenseAccuracy]),
        };
        var withReinit = kept.Where(r => r.Reinitialized is not null).ToList();
        if (withReinit.Count > 0)
            series.Add(new("reinitialised", withReinit.Select(r => 100 * r.Density).ToList(), withReinit.Select(r => r.Reinitialized!.TestAccuracy).ToList()));
        var withRandom = kept.Where(r => r.RandomMask is not null).ToList();
        if (withRandom.Count > 0)
            series.Add(new("random mask", withRandom.Select(r => 100 * r.Density).ToList(), withRandom.Select(r => r.RandomMask!.TestAccuracy).ToList()));
        Plots.Lines(Path.Combine(a.Out, "tickets.png"), $"{a.Model} on Fashion-MNIST{(a.TrainSubset is { } sub ? $" ({sub:N0} training examples)" : "")}, IMP (rewind {a.Rewind})", "weights remaining (%)", "test accuracy (%)", series, logX: true);
    }

    SampleConsole.Table($"Lottery tickets ({a.Model}, dense {result.DenseAccuracy:F2} %)", ["level", "density %", "ticket %", "reinit %", "random mask %", "seconds"],
        kept.Select(r => (IReadOnlyList<string>)[
            r.Level.ToString(inv), (100 * r.Density).ToString("F2", inv), r.TestAccuracy.ToString("F2", inv),
            r.Reinitialized?.TestAccuracy.ToString("F2", inv) ?? "", r.RandomMask?.TestAccuracy.ToString("F2", inv) ?? "", r.Seconds.ToString("F1", inv)]));
    Console.WriteLine($"Wrote {Path.Combine(a.Out, "tickets.json")}");
}

return 0;

/// <summary>Synchronous progress.</summary>
internal sealed class Sync<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>Command line.</summary>
internal sealed record Args(string Model, int Levels, int Epochs, RewindPoint Rewind, int ControlEvery, long Seed, string? Data, string Out, string Device, int? TrainSubset, double[]? Ladder, double Tolerance)
{
    public const string Usage =
        "usage: --model lenet300|lenet5|resnet20 [--levels 15] [--epochs 10] [--rewind init|epoch:K|step:K|none|lr] " +
        "[--controls every:K|none] [--seed 0] [--data DIR] [--device cpu|cuda] [--train-subset N] " +
        "[--ladder 0.1,0.05,0.01 [--tolerance 1]] --out DIR";

    public static Args? Parse(string[] argv)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < argv.Length; i += 2)
        {
            if (!argv[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= argv.Length)
            {
                return null;
            }

            map[argv[i][2..]] = argv[i + 1];
        }

        if (!map.TryGetValue("out", out var outDir))
        {
            return null;
        }

        var model = map.GetValueOrDefault("model", "lenet300");
        if (model is not ("lenet300" or "lenet5" or "resnet20"))
        {
            return null;
        }

        int controlEvery = 0;
        var controls = map.GetValueOrDefault("controls", "every:3");
        if (controls.StartsWith("every:", StringComparison.Ordinal))
        {
            controlEvery = int.Parse(controls["every:".Length..], CultureInfo.InvariantCulture);
        }
        else if (controls != "none")
        {
            return null;
        }

        return new Args(
            model,
            int.Parse(map.GetValueOrDefault("levels", "15"), CultureInfo.InvariantCulture),
            int.Parse(map.GetValueOrDefault("epochs", "10"), CultureInfo.InvariantCulture),
            RewindPoint.Parse(map.GetValueOrDefault("rewind", "init")),
            controlEvery,
            long.Parse(map.GetValueOrDefault("seed", "0"), CultureInfo.InvariantCulture),
            map.GetValueOrDefault("data"),
            outDir,
            map.GetValueOrDefault("device", "cpu"),
            map.TryGetValue("train-subset", out var sub) ? int.Parse(sub, CultureInfo.InvariantCulture) : null,
            map.TryGetValue("ladder", out var ladder) ? ladder.Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray() : null,
            double.Parse(map.GetValueOrDefault("tolerance", "1"), CultureInfo.InvariantCulture));
    }
}
