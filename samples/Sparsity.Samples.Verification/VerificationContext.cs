using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Sparsity;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.LotteryVerification;
using Sparsity.Models;
using Sparsity.Samples;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>One ticket with its mask and accuracy; <see cref="Dense"/> is the pre-trained model it was pruned from.</summary>
internal sealed record Ticket(nn.Module<Tensor, Tensor> Model, MaskSet Mask, nn.Module<Tensor, Tensor> Dense, double Accuracy);

/// <summary>
/// What every experiment shares: options, data, the owner's and the unrelated ticket, the control, and the helpers
/// (masked training, evaluation, cloning, logging) with a clock per phase.
/// </summary>
internal sealed class VerificationContext(SampleOptions options, CancellationToken cancellationToken)
{
    private readonly Trainer _trainer = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<string, double> _phases = [];
    private readonly Dictionary<string, double> _within = new() { ["training"] = 0, ["evaluation"] = 0, ["verification"] = 0 };

    public SampleOptions Options => options;

    public CancellationToken CancellationToken => cancellationToken;

    public FashionMnistData Data { get; private set; } = null!;

    public OwnerKey OwnerKey { get; } = OwnerKey.FromPassphrase($"owner-{options.Seed}");

    public OwnerKey ThiefKey { get; } = OwnerKey.FromPassphrase($"thief-{options.Seed}");

    public VerificationOptions VerificationOptions => new() { FalsePositiveRate = options.FalsePositiveRate };

    public OwnershipVerifier Verifier { get; } = new();

    public double ElapsedSeconds => _clock.Elapsed.TotalSeconds;

    /// <summary>Runs <paramref name="work"/> and adds its wall time to phase <paramref name="phase"/>.</summary>
    public T Phase<T>(string phase, Func<T> work)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            return work();
        }
        finally
        {
            _phases[phase] = _phases.GetValueOrDefault(phase) + watch.Elapsed.TotalSeconds;
        }
    }

    /// <summary>Runs <paramref name="work"/> and adds its wall time to phase <paramref name="phase"/>.</summary>
    public void Phase(string phase, Action work) => Phase(phase, () =>
    {
        work();
        return 0;
    });

    /// <summary>
    /// Seconds per phase (<c>other</c>: the rest, mostly single evaluations between phases), the time spent in training,
    /// evaluation and verification summed over all phases, and the total.
    /// </summary>
    public JsonObject Seconds()
    {
        var phases = new JsonObject();
        foreach (var (name, s) in _phases)
        {
            phases[name] = Math.Round(s, 1);
        }

        phases["other"] = Math.Round(ElapsedSeconds - _phases.Values.Sum(), 1);
        var within = new JsonObject();
        foreach (var (name, s) in _within)
        {
            within[name] = Math.Round(s, 1);
        }

        return new JsonObject { ["phases"] = phases, ["across_phases"] = within, ["total"] = Math.Round(ElapsedSeconds, 1) };
    }

    public void LoadData()
    {
        Data = Phase("data", () =>
        {
            if (string.Equals(options.Data, "embedded", StringComparison.OrdinalIgnoreCase))
            {
                return EmbeddedFashionMnist.Load();
            }

            return options.Data is null ? EmbeddedFashionMnist.LoadFullOrEmbedded() : FashionMnist.Load(options.Data);
        });
        Log($"data: {Data.Source} ({Data.Train.Count} train, {Data.Test.Count} test)");
    }

    public nn.Module<Tensor, Tensor> NewModel() => ReferenceModels.Create(options.Model, 1, 10);

    public nn.Module<Tensor, Tensor> Clone(nn.Module<Tensor, Tensor> model)
    {
        var copy = NewModel();
        using var noGrad = no_grad();
        var source = model.state_dict();
        foreach (var (key, value) in copy.state_dict())
        {
            value.copy_(source[key]);
        }

        return copy;
    }

    /// <summary>
    /// Pre-trained dense model → global magnitude ticket over every conv/linear except the first and last → fine-tune with
    /// the mask fixed. Pre-training goes through <see cref="Pretrained.GetOrTrain(Func{nn.Module{Tensor, Tensor}}, string, IDataset, IDataset, string, string, TrainingOptions?, Microsoft.Extensions.Logging.ILogger{Trainer}?, IProgress{TrainingProgress}?, CancellationToken)"/>
    /// with the reference recipe changed only in Epochs and Seed, exactly as the Jackpot sample's main job calls it
    /// (its Device is not part of the cache key), so <c>--cache</c> can point at that job's cache.
    /// </summary>
    public Ticket MakeTicket(long seed, int pretrainEpochs, string role)
    {
        var cache = options.CacheFolder;
        var recipe = TrainingOptions.ReferenceRecipe with { Epochs = pretrainEpochs, Seed = seed };
        var pre = Phase($"pretrain_{role}", () =>
            Pretrained.GetOrTrain(NewModel, options.Model, Data.Train, Data.Test, Data.Source, cache, recipe, cancellationToken: cancellationToken));
        Log($"pre-trained {options.Model} seed {seed}, {pretrainEpochs} epochs: {pre.TestAccuracy:F2} % ({(pre.FromCache ? "cached" : "trained")}: {pre.Path})");

        return Phase($"ticket_{role}", () =>
        {
            var model = Clone(pre.Model);
            var parameters = Parameters(model);
            string key = $"{options.Model}.{Data.Source}.s{seed}.d{options.Density.ToString("R", CultureInfo.InvariantCulture)}.p{pretrainEpochs}.t{options.TicketEpochs}";
            var modelPath = Path.Combine(cache, $"ticket.{key}.safetensors");
            var maskPath = Path.Combine(cache, $"ticket.{key}.mask.safetensors");
            MaskSet mask;
            if (File.Exists(modelPath) && File.Exists(maskPath))
            {
                StateDict.Load(model, modelPath);
                mask = MaskSet.Load(maskPath);
                Log($"ticket seed {seed}: reused {modelPath}");
            }
            else
            {
                using (var scores = MagnitudeScores(parameters))
                {
                    mask = new GlobalAllocation().Allocate(scores, 1 - options.Density);
                }

                Train(model, mask, parameters, options.TicketEpochs, 0.01, seed + 10, Data.Train);
                Directory.CreateDirectory(cache);
                StateDict.Save(model, modelPath);
                mask.Save(maskPath);
            }

            return new Ticket(model, mask, pre.Model, Evaluate(model));
        });
    }

    /// <summary>The ticket's layers: every conv/linear weight except the first (stem) and the last (classifier).</summary>
    public static IReadOnlyList<PrunableParameter> Parameters(nn.Module model) =>
        new ParameterSelector(new ParameterSelectorOptions { KeepFirstLayerDense = true, KeepLastLayerDense = true }).Select(model);

    /// <summary>|W| of each parameter (a new score set owned by the caller).</summary>
    public static ScoreSet MagnitudeScores(IEnumerable<PrunableParameter> parameters) =>
        new(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone().DetachFromDisposeScope())).ToList());

    /// <summary>
    /// Masked training with the trainer (mask fixed), then pruned weights zeroed for good. No per-epoch test evaluation
    /// (every caller evaluates once afterwards).
    /// </summary>
    public void Train(nn.Module<Tensor, Tensor> model, MaskSet mask, IReadOnlyList<PrunableParameter> parameters, int epochs, double lr, long seed, IDataset train)
    {
        if (epochs <= 0)
        {
            mask.ApplyTo(model, parameters);
            return;
        }

        var watch = Stopwatch.StartNew();
        var recipe = TrainingOptions.ReferenceRecipe with { Epochs = epochs, LearningRate = lr, Seed = seed };
        OwnershipAttacks.FineTuneWithFixedMask(model, mask, (masked, ct) =>
            _trainer.Train(model, train, null, recipe, hooks: new MaskedTrainingHooks(masked), cancellationToken: ct),
            parameters, cancellationToken);
        _within["training"] += watch.Elapsed.TotalSeconds;
    }

    public double Evaluate(nn.Module<Tensor, Tensor> model)
    {
        var watch = Stopwatch.StartNew();
        double accuracy = Evaluator.Evaluate(model, Data.Test).Accuracy;
        _within["evaluation"] += watch.Elapsed.TotalSeconds;
        return accuracy;
    }

    public OwnershipVerdict Verify(nn.Module model, SignatureCredential credential)
    {
        var watch = Stopwatch.StartNew();
        var verdict = Verifier.Verify(model, credential, VerificationOptions);
        _within["verification"] += watch.Elapsed.TotalSeconds;
        return verdict;
    }

    public OwnershipVerdict Verify(MaskSet masks, SignatureCredential credential)
    {
        var watch = Stopwatch.StartNew();
        var verdict = Verifier.Verify(masks, credential, VerificationOptions);
        _within["verification"] += watch.Elapsed.TotalSeconds;
        return verdict;
    }

    /// <summary>The signature scheme by name (QR candidates: ResNet-20's layer2, as in the official code).</summary>
    public ISignatureScheme Scheme(string name) => name switch
    {
        "qr" => new QrSignatureScheme(new QrSignatureOptions { CandidateLayers = options.Model == "resnet20" ? ["layer2.*"] : [] }),
        "keyed" => new KeyedSignatureScheme(OwnerKey),
        _ => throw new ArgumentException($"Unknown scheme '{name}' (qr, keyed)."),
    };

    public static JsonObject Entry(double accuracy, OwnershipVerdict v) => new()
    {
        ["accuracy"] = Round(accuracy),
        ["matches"] = v.Matches,
        ["bits"] = v.Bits,
        ["bit_error_rate"] = Round(v.BitErrorRate, 4),
        ["log10_fpr"] = Round(v.Log10FalsePositive),
        ["verified"] = v.Verified,
        ["null_model"] = v.NullModel.ToString(),
        ["places_searched"] = v.PlacesSearched,
    };

    public static double Round(double v, int digits = 2) => Math.Round(v, digits);

    public static string Describe(OwnershipVerdict v) =>
        $"{v.Matches}/{v.Bits} bits, BER {v.BitErrorRate:F3}, log10 FPR {v.Log10FalsePositive:F2} → {(v.Verified ? "verified" : "rejected")}";

    public void Log(string line) => Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {line}");
}
