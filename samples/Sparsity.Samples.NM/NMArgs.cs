using System.Globalization;

namespace Sparsity.Samples.NM;

/// <summary>Command-line options of the N:M sample (validated; null from <see cref="Parse"/> on bad input).</summary>
internal sealed record NMArgs
{
    public const string Usage = """
        Usage: Sparsity.Samples.NM [options]
          --model NAME         lenet300 (default), lenet5 or resnet20
          --pattern N:M        the semi-structured pattern (default 2:4); the unstructured run uses sparsity 1 - N/M
          --data DIR           full Fashion-MNIST folder (default: the embedded subset)
          --dense-epochs N     pre-training epochs, reference recipe (default 10; cached under --cache)
          --epochs N           search epochs (default 5)
          --batch-size N       search batch size (default 256)
          --lr X               search learning rate (default 0.1)
          --seed N             seed of pre-training and search (default 0)
          --threads N          libtorch threads (default 1)
          --train-subset N     use N training examples (default all)
          --test-subset N      use N test examples (default all)
          --results FILE       results JSON to merge into (default results/nm/sparse-deployment-nm.json)
          --export DIR         folder of the N:M export (default results/nm)
          --cache DIR          pre-trained model cache (default .cache/pretrained)
          --smoke              a run of under a minute: embedded data, 512 train / 500 test, 1 + 1 epochs
        """;

    public string Model { get; init; } = "lenet300";

    public NMPattern Pattern { get; init; } = NMPattern.TwoFour;

    public string? Data { get; init; }

    public int DenseEpochs { get; init; } = 10;

    public int Epochs { get; init; } = 5;

    public int BatchSize { get; init; } = 256;

    public double LearningRate { get; init; } = 0.1;

    public long Seed { get; init; }

    public int Threads { get; init; } = 1;

    public int? TrainSubset { get; init; }

    public int? TestSubset { get; init; }

    public string Results { get; init; } = Path.Combine("results", "nm", "sparse-deployment-nm.json");

    public string Export { get; init; } = Path.Combine("results", "nm");

    public string Cache { get; init; } = Path.Combine(".cache", "pretrained");

    public bool Smoke { get; init; }

    /// <summary>The command that reproduces this run.</summary>
    public string Command { get; init; } = "";

    public static NMArgs? Parse(string[] args)
    {
        var a = new NMArgs { Command = "dotnet run -c Release --project samples/Sparsity.Samples.NM --" + string.Concat(args.Select(x => " " + x)) };
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value.");
                int Positive() => int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture) is var v && v >= 1 ? v
                    : throw new FormatException($"{args[i - 1]} must be a whole number ≥ 1.");
                a = args[i] switch
                {
                    "--model" => a with { Model = Next() is var m && m is "lenet300" or "lenet5" or "resnet20" ? m : throw new FormatException($"--model {m}: use lenet300, lenet5 or resnet20.") },
                    "--pattern" => a with { Pattern = NMPattern.Parse(Next()) },
                    "--data" => a with { Data = Next() },
                    "--dense-epochs" => a with { DenseEpochs = Positive() },
                    "--epochs" => a with { Epochs = Positive() },
                    "--batch-size" => a with { BatchSize = Positive() },
                    "--lr" => a with { LearningRate = double.Parse(Next(), CultureInfo.InvariantCulture) is var lr && lr > 0 && double.IsFinite(lr) ? lr : throw new FormatException("--lr must be > 0.") },
                    "--seed" => a with { Seed = long.Parse(Next(), CultureInfo.InvariantCulture) },
                    "--threads" => a with { Threads = Positive() },
                    "--train-subset" => a with { TrainSubset = Positive() },
                    "--test-subset" => a with { TestSubset = Positive() },
                    "--results" => a with { Results = Next() },
                    "--export" => a with { Export = Next() },
                    "--cache" => a with { Cache = Next() },
                    "--smoke" => a with
                    {
                        Smoke = true, Data = null, DenseEpochs = 1, Epochs = 1, TrainSubset = 512, TestSubset = 500,
                        Results = Path.Combine("results", "nm-smoke", "sparse-deployment-nm.json"), Export = Path.Combine("results", "nm-smoke"),
                    },
                    "--help" or "-h" => throw new FormatException(""),
                    var other => throw new FormatException($"Unknown option '{other}'."),
                };
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            if (e.Message.Length > 0)
            {
                Console.Error.WriteLine(e.Message);
            }

            return null;
        }

        return a;
    }
}
