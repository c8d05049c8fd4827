using System.Globalization;
using Sparsity.Search;
using static TorchSharp.torch;

namespace Sparsity.Samples.Jackpot;

/// <summary>Command-line options of the jackpot sample.</summary>
internal sealed record JackpotArguments
{
    public const string Usage = """
        usage: Sparsity.Samples.Jackpot [options]
          --model lenet300|resnet20      reference model (default lenet300)
          --sparsity S                   fraction of searched weights removed, in [0, 1) (default 0.9)
          --epochs N                     search epochs (default 5)
          --seed N                       seed of pre-training and search (default 0)
          --data DIR|auto                Fashion-MNIST folder; auto = discovery order; default: embedded subset
          --out DIR                      output folder for results.json (default results/jackpot)
          --cache DIR                    pre-trained model cache (default .cache/pretrained)
          --dense-epochs N               pre-training epochs, reference recipe (default 10)
          --restriction none|short       mask-update restriction (default short)
          --schedule official|decaying|constant:F   short-restriction schedule (default official)
          --init magnitude|random        score initialisation (default magnitude: official 1.0/0.99)
          --batch-size N                 search batch size (default 256)
          --lr X                         search learning rate (default 0.1)
          --bn update|freeze|recalibrate BatchNorm policy (default update, as the official code)
          --device cpu|cuda              device (default cpu)
          --resume                       continue the search from DIR/search if a checkpoint is there
        """;

    public string Model { get; init; } = "lenet300";

    public double Sparsity { get; init; } = 0.9;

    public int Epochs { get; init; } = 5;

    public long Seed { get; init; }

    public string? Data { get; init; }

    public string Out { get; init; } = Path.Combine("results", "jackpot");

    public string Cache { get; init; } = Path.Combine(".cache", "pretrained");

    public int DenseEpochs { get; init; } = 10;

    public IRestrictionPolicy Restriction { get; init; } = new ShortRestriction();

    public string Init { get; init; } = "magnitude";

    public int BatchSize { get; init; } = 256;

    public double LearningRate { get; init; } = 0.1;

    public BatchNormPolicy BatchNorm { get; init; } = BatchNormPolicy.UpdateRunningStatistics;

    public Device Device { get; init; } = CPU;

    public bool Resume { get; init; }

    public bool Help { get; init; }

    public static JackpotArguments Parse(IReadOnlyList<string> args)
    {
        var a = new JackpotArguments();
        string restriction = "short", schedule = "official";
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--model":
                    var model = Value().ToLowerInvariant();
                    a = a with { Model = model is "lenet300" or "resnet20" ? model : throw new ArgumentException($"--model must be lenet300 or resnet20, not '{model}'.") };
                    break;
                case "--sparsity":
                    var s = Double(Value(), "--sparsity");
                    a = a with { Sparsity = s is >= 0 and < 1 ? s : throw new ArgumentException("--sparsity must lie in [0, 1).") };
                    break;
                case "--epochs": a = a with { Epochs = Int(Value(), "--epochs", 1) }; break;
                case "--seed": a = a with { Seed = long.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--data": a = a with { Data = Value() }; break;
                case "--out": a = a with { Out = Value() }; break;
                case "--cache": a = a with { Cache = Value() }; break;
                case "--dense-epochs": a = a with { DenseEpochs = Int(Value(), "--dense-epochs", 1) }; break;
                case "--restriction":
                    restriction = Value().ToLowerInvariant();
                    if (restriction is not ("none" or "short")) throw new ArgumentException("--restriction must be none or short.");
                    break;
                case "--schedule": schedule = Value().ToLowerInvariant(); break;
                case "--init":
                    var init = Value().ToLowerInvariant();
                    a = a with { Init = init is "magnitude" or "random" ? init : throw new ArgumentException("--init must be magnitude or random.") };
                    break;
                case "--batch-size": a = a with { BatchSize = Int(Value(), "--batch-size", 1) }; break;
                case "--lr": a = a with { LearningRate = Double(Value(), "--lr") }; break;
                case "--bn":
                    a = a with
                    {
                        BatchNorm = Value().ToLowerInvariant() switch
                        {
                            "update" => BatchNormPolicy.UpdateRunningStatistics,
                            "freeze" => BatchNormPolicy.Freeze,
                            "recalibrate" => BatchNormPolicy.RecalibrateAfter,
                            var other => throw new ArgumentException($"--bn must be update, freeze or recalibrate, not '{other}'."),
                        },
                    };
                    break;
                case "--device":
                    var d = Value().ToLowerInvariant();
                    a = a with { Device = d == "cpu" ? CPU : d == "cuda" ? CUDA : throw new ArgumentException("--device must be cpu or cuda.") };
                    break;
                case "--resume": a = a with { Resume = true }; break;
                case "--help" or "-h": a = a with { Help = true }; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        RestrictionSchedule sched = schedule switch
        {
            "official" => RestrictionSchedule.Official,
            "decaying" => RestrictionSchedule.Decaying,
            _ when schedule.StartsWith("constant:", StringComparison.Ordinal) => RestrictionSchedule.Constant(Double(schedule["constant:".Length..], "--schedule constant:F")),
            _ => throw new ArgumentException("--schedule must be official, decaying or constant:F."),
        };
        return a with { Restriction = restriction == "none" ? NoRestriction.Instance : new ShortRestriction(sched) };
    }

    private static int Int(string text, string name, int min) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min ? v
            : throw new ArgumentException($"{name} must be an integer ≥ {min}, not '{text}'.");

    private static double Double(string text, string name) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw new ArgumentException($"{name} must be a number, not '{text}'.");
}
