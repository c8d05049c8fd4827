using System.Globalization;

/// <summary>Command-line options (fast defaults: a few epochs on CPU).</summary>
internal sealed record SampleOptions
{
    public const string Usage =
        "usage: Sparsity.Samples.Verification --out DIR [--model resnet20|lenet5] [--seed 0] [--data DIR|embedded]\n" +
        "       [--pretrain-epochs 3] [--unrelated-pretrain-epochs 3] [--ticket-epochs 1] [--retrain-epochs 2]\n" +
        "       [--attack-epochs 1] [--search-epochs 1] [--density 0.2] [--fpr 1e-9] [--cache DIR] [--threads N]\n" +
        "       [--schemes qr,keyed|none] [--experiments trigger,key_mask,signed_jackpot|none]\n" +
        "       [--trigger-count 100] [--trigger-epochs <retrain epochs>] [--triggers-per-batch 16] [--key-fraction 0.05] [--key-mask-epochs <ticket epochs>]\n" +
        "       [--attack-grid]\n" +
        "       Sparsity.Samples.Verification --report OUT/verification.json";

    /// <summary>The experiments beyond the per-scheme runs, in the order they run.</summary>
    public static readonly string[] AllExperiments = ["trigger", "key_mask", "signed_jackpot"];

    public string Model { get; init; } = "resnet20";
    public long Seed { get; init; }
    public string? Data { get; init; }
    public string Out { get; init; } = "";
    public int PretrainEpochs { get; init; } = 3;
    public int UnrelatedPretrainEpochs { get; init; } = 3;
    public int TicketEpochs { get; init; } = 1;
    public int RetrainEpochs { get; init; } = 2;
    public int AttackEpochs { get; init; } = 1;
    public int SearchEpochs { get; init; } = 1;
    public double Density { get; init; } = 0.2;
    public double FalsePositiveRate { get; init; } = 1e-9;
    public string? Cache { get; init; }
    public int? Threads { get; init; }
    public IReadOnlyList<string> Schemes { get; init; } = ["qr", "keyed"];
    public IReadOnlyList<string> Experiments { get; init; } = AllExperiments;
    public int TriggerCount { get; init; } = 100;
    public double KeyFraction { get; init; } = 0.05;
    public int? KeyMaskEpochs { get; init; }
    public int? TriggerEpochs { get; init; }
    public int TriggersPerBatch { get; init; } = 16;
    public bool AttackGrid { get; init; }

    /// <summary>The cache folder of pre-training and tickets.</summary>
    public string CacheFolder => Cache ?? Path.Combine(Out, "cache");

    public bool Runs(string experiment) => Experiments.Contains(experiment);

    public static SampleOptions? Parse(string[] args)
    {
        var o = new SampleOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double NextDouble() => double.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--model" => o with { Model = Next() },
                "--seed" => o with { Seed = long.Parse(Next(), CultureInfo.InvariantCulture) },
                "--data" => o with { Data = Next() },
                "--out" => o with { Out = Next() },
                "--pretrain-epochs" => o with { PretrainEpochs = NextInt() },
                "--unrelated-pretrain-epochs" => o with { UnrelatedPretrainEpochs = NextInt() },
                "--ticket-epochs" => o with { TicketEpochs = NextInt() },
                "--retrain-epochs" => o with { RetrainEpochs = NextInt() },
                "--attack-epochs" => o with { AttackEpochs = NextInt() },
                "--search-epochs" => o with { SearchEpochs = NextInt() },
                "--density" => o with { Density = NextDouble() },
                "--fpr" => o with { FalsePositiveRate = NextDouble() },
                "--cache" => o with { Cache = Next() },
                "--threads" => o with { Threads = NextInt() },
                "--schemes" => o with { Schemes = List(Next()) },
                "--experiments" => o with { Experiments = List(Next()) },
                "--trigger-count" => o with { TriggerCount = NextInt() },
                "--key-fraction" => o with { KeyFraction = NextDouble() },
                "--key-mask-epochs" => o with { KeyMaskEpochs = NextInt() },
                "--trigger-epochs" => o with { TriggerEpochs = NextInt() },
                "--triggers-per-batch" => o with { TriggersPerBatch = NextInt() },
                "--attack-grid" => o with { AttackGrid = true },
                "-h" or "--help" => null,
                _ => throw new ArgumentException($"Unknown option '{args[i]}'.\n{Usage}"),
            };
            if (o is null)
            {
                return null;
            }
        }

        if (string.IsNullOrWhiteSpace(o.Out))
        {
            return null;
        }

        if (!(o.Density > 0 && o.Density < 1))
        {
            throw new ArgumentOutOfRangeException("--density", o.Density, "The ticket density must lie in (0, 1).");
        }

        if (!(o.KeyFraction > 0 && o.KeyFraction < 1))
        {
            throw new ArgumentOutOfRangeException("--key-fraction", o.KeyFraction, "The relative key density must lie in (0, 1), for example 0.05 (paper Table 4).");
        }

        if (o.PretrainEpochs < 1 || o.UnrelatedPretrainEpochs < 1)
        {
            throw new ArgumentOutOfRangeException("--pretrain-epochs", "Pre-training needs at least 1 epoch (--pretrain-epochs and --unrelated-pretrain-epochs).");
        }

        if (o.TicketEpochs < 0 || o.RetrainEpochs < 0 || o.AttackEpochs < 0 || o.KeyMaskEpochs < 0 || o.TriggerEpochs < 0)
        {
            throw new ArgumentOutOfRangeException("--retrain-epochs", "--ticket-epochs, --retrain-epochs, --attack-epochs, --key-mask-epochs and --trigger-epochs must be ≥ 0.");
        }

        if (o.SearchEpochs < 1)
        {
            throw new ArgumentOutOfRangeException("--search-epochs", o.SearchEpochs, "The jackpot search needs at least 1 epoch.");
        }

        if (o.TriggerCount < 1)
        {
            throw new ArgumentOutOfRangeException("--trigger-count", o.TriggerCount, "The trigger set needs at least 1 trigger (paper: 100).");
        }

        if (o.TriggersPerBatch is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException("--triggers-per-batch", o.TriggersPerBatch, "Triggers per batch must lie in [1, 64] (default 16; the paper: 1, which leaves the owner unverified with a short recipe; the batch holds 128).");
        }

        if (o.Threads is < 1)
        {
            throw new ArgumentOutOfRangeException("--threads", o.Threads, "The thread count must be ≥ 1.");
        }

        var unknown = o.Experiments.Where(e => e != "none" && !AllExperiments.Contains(e)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown experiment(s) {string.Join(", ", unknown)}; allowed: {string.Join(", ", AllExperiments)} or none.", "--experiments");
        }

        return o;
    }

    private static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
