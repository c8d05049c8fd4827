// Lottery-ticket ownership verification end to end (Chen et al., NeurIPS 2021; docs/lottery-verification.md):
// pre-train (or reuse) → one-shot magnitude ticket + fine-tune → per scheme (QR, keyed): embed, retrain with the mask
// fixed, verify; run every attack and verify again; write OUT/verification.json.
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

if (args is ["--report", var saved])
{
    // Re-print the verdict tables and the plot of an earlier run's verification.json.
    var earlier = JsonNode.Parse(File.ReadAllText(saved))!.AsObject();
    VerdictReport.Print(earlier);
    VerdictReport.Plot(earlier, Path.ChangeExtension(saved, ".png"));
    return 0;
}

var options = SampleOptions.Parse(args);
if (options is null)
{
    Console.WriteLine(SampleOptions.Usage);
    return 2;
}

using var cancel = SampleConsole.CancelOnCtrlC();
var run = new VerificationRun(options, cancel.Token);
var json = run.Execute();
var path = Path.Combine(options.Out, "verification.json");
ResultFiles.WriteJson(path, json);
VerdictReport.Print(json);
VerdictReport.Plot(json, Path.Combine(options.Out, "verification.png"));
Console.WriteLine($"Wrote {path} and verification.png");
return 0;

/// <summary>The readable end of the sample: one verdict table per scheme and a plot of the claims' log10 FPR.</summary>
internal static class VerdictReport
{
    private static readonly string[] Attacks = ["finetune", "prune10", "prune20", "addon1", "overwrite", "forged_key", "unrelated_model"];

    public static void Print(JsonObject json)
    {
        if (json["schemes"] is not JsonObject schemes) return;
        foreach (var (name, node) in schemes)
        {
            if (node is not JsonObject scheme || scheme["attacks"] is not JsonObject attacks)
            {
                Console.WriteLine($"{name}: {node?["error"]}");
                continue;
            }

            SampleConsole.Table(
                $"{name} signature: accuracy {Text(scheme["accuracy_before"])} % before, {Text(scheme["accuracy_after_embedding"])} % after embedding; threshold log10 FPR ≤ {Math.Log10(json["false_positive_threshold"]!.GetValue<double>()):F0}",
                ["claim", "accuracy (%)", "log10 FPR", "verdict"],
                [
                    ["owner", Text(scheme["accuracy_after_embedding"]), Text(scheme["owner_log10_fpr"]), Verdict(scheme["verified"])],
                    .. Attacks.Where(attacks.ContainsKey).Select(a => (IReadOnlyList<string>)[a, Text(attacks[a]!["accuracy"]), Text(attacks[a]!["log10_fpr"]), Verdict(attacks[a]!["verified"])]),
                ]);
        }
    }

    public static void Plot(JsonObject json, string path)
    {
        if (json["schemes"] is not JsonObject schemes) return;
        var series = new List<PlotSeries>();
        foreach (var (name, node) in schemes)
        {
            if (node is not JsonObject scheme || scheme["attacks"] is not JsonObject attacks) continue;
            var values = new List<double> { scheme["owner_log10_fpr"]?.GetValue<double>() ?? double.NaN };
            values.AddRange(Attacks.Select(a => attacks[a]?["log10_fpr"]?.GetValue<double>() ?? double.NaN));
            series.Add(new PlotSeries(name, Enumerable.Range(0, values.Count).Select(i => (double)i).ToList(), values));
        }

        if (series.Count == 0) return;
        var threshold = Math.Log10(json["false_positive_threshold"]!.GetValue<double>());
        series.Add(new PlotSeries("threshold", [0, Attacks.Length], [threshold, threshold]));
        Plots.Lines(path, "Ownership claims: log10 false-positive probability", "claim", "log10 FPR (lower = surer)", series,
            categories: ["owner", "fine-tune", "prune 10 %", "prune 20 %", "add-on 1 %", "overwrite", "forged key", "unrelated"]);
    }

    private static string Text(JsonNode? value) => value is null ? "" : value.ToJsonString();

    private static string Verdict(JsonNode? value) => value?.GetValue<bool>() == true ? "verified" : "rejected";
}

/// <summary>Command-line options (fast defaults: a few epochs on CPU).</summary>
internal sealed record SampleOptions
{
    public const string Usage =
        "usage: Sparsity.Samples.Verification --out DIR [--model resnet20|lenet5] [--seed 0] [--data DIR|embedded]\n" +
        "       [--pretrain-epochs 3] [--ticket-epochs 1] [--retrain-epochs 2] [--attack-epochs 1] [--density 0.2]\n" +
        "       [--fpr 1e-9] [--cache DIR] [--schemes qr,keyed|none]";

    public string Model { get; init; } = "resnet20";
    public long Seed { get; init; }
    public string? Data { get; init; }
    public string Out { get; init; } = "";
    public int PretrainEpochs { get; init; } = 3;
    public int TicketEpochs { get; init; } = 1;
    public int RetrainEpochs { get; init; } = 2;
    public int AttackEpochs { get; init; } = 1;
    public double Density { get; init; } = 0.2;
    public double FalsePositiveRate { get; init; } = 1e-9;
    public string? Cache { get; init; }
    public IReadOnlyList<string> Schemes { get; init; } = ["qr", "keyed"];

    public static SampleOptions? Parse(string[] args)
    {
        var o = new SampleOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            o = args[i] switch
            {
                "--model" => o with { Model = Next() },
                "--seed" => o with { Seed = long.Parse(Next(), CultureInfo.InvariantCulture) },
                "--data" => o with { Data = Next() },
                "--out" => o with { Out = Next() },
                "--pretrain-epochs" => o with { PretrainEpochs = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--ticket-epochs" => o with { TicketEpochs = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--retrain-epochs" => o with { RetrainEpochs = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--attack-epochs" => o with { AttackEpochs = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--density" => o with { Density = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--fpr" => o with { FalsePositiveRate = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--cache" => o with { Cache = Next() },
                "--schemes" => o with { Schemes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
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

        return o;
    }
}

/// <summary>One ticket with its mask and accuracy.</summary>
internal sealed record Ticket(nn.Module<Tensor, Tensor> Model, MaskSet Mask, nn.Module<Tensor, Tensor> Dense, double Accuracy);

internal sealed class VerificationRun(SampleOptions options, CancellationToken cancellationToken)
{
    private readonly Trainer _trainer = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private FashionMnistData _data = null!;

    public JsonObject Execute()
    {
        _data = LoadData();
        Log($"data: {_data.Source} ({_data.Train.Count} train, {_data.Test.Count} test)");
        var owner = MakeTicket(options.Seed);
        Log($"ticket: density {owner.Mask.Density:P2} over {owner.Mask.LayerCount} layers, accuracy {owner.Accuracy:F2} %");
        var unrelated = MakeTicket(options.Seed + 1);
        Log($"unrelated ticket (seed {options.Seed + 1}): accuracy {unrelated.Accuracy:F2} %");

        var root = new JsonObject
        {
            ["model"] = options.Model,
            ["seed"] = options.Seed,
            ["data"] = _data.Source,
            ["train_count"] = _data.Train.Count,
            ["test_count"] = _data.Test.Count,
            ["ticket_density"] = owner.Mask.Density,
            ["ticket_layers"] = owner.Mask.LayerCount,
            ["false_positive_threshold"] = options.FalsePositiveRate,
            ["epochs"] = new JsonObject
            {
                ["pretrain"] = options.PretrainEpochs,
                ["ticket"] = options.TicketEpochs,
                ["retrain"] = options.RetrainEpochs,
                ["attack_finetune"] = options.AttackEpochs,
            },
        };

        // Control: the same retraining without a signature, so the embedding cost is not confounded with the extra epochs.
        var control = Clone(owner.Model);
        Train(control, owner.Mask, Parameters(control), options.RetrainEpochs, 0.01, options.Seed + 20, _data.Train);
        double controlAccuracy = Evaluate(control);
        root["ticket_accuracy"] = Round(owner.Accuracy);
        root["ticket_retrained_accuracy"] = Round(controlAccuracy);
        Log($"control: ticket retrained {options.RetrainEpochs} epochs without a signature: {controlAccuracy:F2} %");

        var schemes = new JsonObject();
        foreach (var name in options.Schemes.Where(s => s != "none"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var entry = RunScheme(name, owner, unrelated);
                entry["accuracy_control"] = Round(controlAccuracy);
                entry["embedding_cost"] = Round(controlAccuracy - entry["accuracy_after_embedding"]!.GetValue<double>());
                schemes[name] = entry;
            }
            catch (ArgumentException e) when (name == "qr")
            {
                Log($"qr: {e.Message}");
                schemes[name] = new JsonObject { ["error"] = e.Message };
            }
        }

        root["schemes"] = schemes;
        root["seconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 1);
        return root;
    }

    private FashionMnistData LoadData()
    {
        if (string.Equals(options.Data, "embedded", StringComparison.OrdinalIgnoreCase))
        {
            // An explicit folder is the only place tried; a folder that does not exist leaves the embedded subset.
            return FashionMnist.Load(Path.Combine(Path.GetTempPath(), $"sparsity-embedded-only-{Guid.NewGuid():N}"), allowEmbedded: true);
        }

        return FashionMnist.Load(options.Data);
    }

    private nn.Module<Tensor, Tensor> NewModel() => ReferenceModels.Create(options.Model, 1, 10);

    private nn.Module<Tensor, Tensor> Clone(nn.Module<Tensor, Tensor> model)
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

    /// <summary>Pre-trained dense model → global magnitude ticket over every conv/linear except the first and last → fine-tune with the mask fixed.</summary>
    private Ticket MakeTicket(long seed)
    {
        var cache = options.Cache ?? Path.Combine(options.Out, "cache");
        var recipe = TrainingOptions.ReferenceRecipe with { Epochs = options.PretrainEpochs, Seed = seed };
        var pre = Pretrained.GetOrTrain(NewModel, options.Model, _data.Train, _data.Test, _data.Source, cache, recipe, cancellationToken: cancellationToken);
        Log($"pre-trained {options.Model} seed {seed}: {pre.TestAccuracy:F2} % ({(pre.FromCache ? "cached" : "trained")})");

        var model = Clone(pre.Model);
        var parameters = Parameters(model);
        string key = $"{options.Model}.{_data.Source}.s{seed}.d{options.Density.ToString("R", CultureInfo.InvariantCulture)}.p{options.PretrainEpochs}.t{options.TicketEpochs}";
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
            using (var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone().DetachFromDisposeScope())).ToList()))
            {
                mask = new GlobalAllocation().Allocate(scores, 1 - options.Density);
            }

            Train(model, mask, parameters, options.TicketEpochs, 0.01, seed + 10, _data.Train);
            Directory.CreateDirectory(cache);
            StateDict.Save(model, modelPath);
            mask.Save(maskPath);
        }

        return new Ticket(model, mask, pre.Model, Evaluate(model));
    }

    private static IReadOnlyList<PrunableParameter> Parameters(nn.Module model) =>
        new ParameterSelector(new ParameterSelectorOptions { KeepFirstLayerDense = true, KeepLastLayerDense = true }).Select(model);

    /// <summary>Masked training with the trainer (mask fixed), then pruned weights zeroed for good.</summary>
    private void Train(nn.Module<Tensor, Tensor> model, MaskSet mask, IReadOnlyList<PrunableParameter> parameters, int epochs, double lr, long seed, IDataset train)
    {
        if (epochs <= 0)
        {
            mask.ApplyTo(model, parameters);
            return;
        }

        var recipe = TrainingOptions.ReferenceRecipe with { Epochs = epochs, LearningRate = lr, Seed = seed };
        OwnershipAttacks.FineTuneWithFixedMask(model, mask, (masked, ct) =>
            _trainer.Train(model, train, _data.Test, recipe, hooks: new MaskedTrainingHooks(masked), cancellationToken: ct),
            parameters, cancellationToken);
    }

    private double Evaluate(nn.Module<Tensor, Tensor> model) => Evaluator.Evaluate(model, _data.Test).Accuracy;

    private JsonObject RunScheme(string name, Ticket owner, Ticket unrelated)
    {
        var ownerKey = OwnerKey.FromPassphrase($"owner-{options.Seed}");
        var thiefKey = OwnerKey.FromPassphrase($"thief-{options.Seed}");
        ISignatureScheme scheme = name switch
        {
            "qr" => new QrSignatureScheme(new QrSignatureOptions { CandidateLayers = options.Model == "resnet20" ? ["layer2.*"] : [] }),
            "keyed" => new KeyedSignatureScheme(ownerKey),
            _ => throw new ArgumentException($"Unknown scheme '{name}' (qr, keyed)."),
        };

        // The signed model starts from the ticket's weights where the ticket keeps, the dense pre-trained weights elsewhere,
        // so positions the signature switches on start from their pre-trained values; the rebalance prefers large |W_dense|.
        var model = Clone(owner.Model);
        var parameters = Parameters(model);
        var denseParameters = Parameters(owner.Dense).ToDictionary(p => p.Name);
        using (var noGrad = no_grad())
        {
            foreach (var p in parameters)
            {
                using var merged = where(owner.Mask[p.Name], p.Weight, denseParameters[p.Name].Weight);
                p.Weight.copy_(merged);
            }
        }

        using var priority = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, denseParameters[p.Name].Weight.detach().abs().clone().DetachFromDisposeScope())).ToList());
        using var signed = scheme.Embed(owner.Mask, seed: (int)options.Seed, priority: priority);
        var cred = signed.Credential;
        cred.Save(Path.Combine(options.Out, $"credential.{name}.json"));
        var flips = owner.Mask.Flips(signed.Mask);
        Log($"{name}: {cred.Bits.Count} bits in {cred.Layer}{(cred.Row is { } r ? $" at ({r}, {cred.Column})" : "")}; {flips.TurnedOn} on / {flips.TurnedOff} off, kept count {signed.Mask.KeptCount} = {owner.Mask.KeptCount}");
        Train(model, signed.Mask, parameters, options.RetrainEpochs, 0.01, options.Seed + 20, _data.Train);
        double after = Evaluate(model);
        var verifier = new OwnershipVerifier();
        var vOptions = new VerificationOptions { FalsePositiveRate = options.FalsePositiveRate };
        var ownerVerdict = verifier.Verify(model, cred, vOptions);
        Log($"{name}: accuracy {owner.Accuracy:F2} → {after:F2} %, owner {Describe(ownerVerdict)}");

        var attacks = new JsonObject();
        void Record(string attack, nn.Module<Tensor, Tensor> attacked, SignatureCredential credential, double? accuracy = null)
        {
            var v = verifier.Verify(attacked, credential, vOptions);
            double acc = accuracy ?? Evaluate(attacked);
            Log($"{name} / {attack}: accuracy {acc:F2} %, {Describe(v)}");
            attacks[attack] = Entry(acc, v);
        }

        {
            var m = Clone(model);
            Train(m, signed.Mask, Parameters(m), options.AttackEpochs, 0.01, options.Seed + 30, _data.Train);
            Record("finetune", m, cred);
        }

        foreach (var (attack, p) in new[] { ("prune10", 0.10), ("prune20", 0.20) })
        {
            var m = Clone(model);
            using var attackedMask = OwnershipAttacks.Reprune(m, signed.Mask, p, RepruneMethod.Magnitude, (int)options.Seed, Parameters(m));
            Record(attack, m, cred);
        }

        {
            var m = Clone(model);
            using var attackedMask = OwnershipAttacks.AddOn(m, signed.Mask, 0.01, 0.1, (int)options.Seed, Parameters(m));
            Record("addon1", m, cred);
        }

        ISignatureScheme forger = name == "qr"
            ? new QrSignatureScheme(new QrSignatureOptions { Message = "signature2", Placement = (cred.Layer, cred.Row!.Value, cred.Column!.Value) })
            : new KeyedSignatureScheme(thiefKey, new KeyedSignatureOptions { Layer = cred.Layer });
        {
            var m = Clone(model);
            using var forged = OwnershipAttacks.Overwrite(m, signed.Mask, forger, 0.1, (int)options.Seed, Parameters(m));
            Record("overwrite", m, cred);
            var forgerVerdict = verifier.Verify(m, forged.Credential, vOptions);
            attacks["overwrite"]!["forger_log10_fpr"] = Round(forgerVerdict.Log10FalsePositive);
            attacks["overwrite"]!["forger_verified"] = forgerVerdict.Verified;
        }

        ISignatureScheme claimant = name == "qr"
            ? new QrSignatureScheme(new QrSignatureOptions { Message = "thief", CandidateLayers = options.Model == "resnet20" ? ["layer2.*"] : [] })
            : new KeyedSignatureScheme(thiefKey);
        using (var ownerMask = SignatureReader.MasksFromWeights(model, signed.Mask.Names))
        {
            Record("forged_key", model, OwnershipAttacks.ForgedClaim(claimant, ownerMask), after);
        }

        Record("unrelated_model", unrelated.Model, cred, unrelated.Accuracy);

        var result = new JsonObject
        {
            ["layer"] = cred.Layer,
            ["bits"] = cred.Bits.Count,
            ["places_compared"] = cred.PlacesCompared,
            ["max_bit_errors"] = cred.MaxBitErrors,
            ["turned_on"] = flips.TurnedOn,
            ["turned_off"] = flips.TurnedOff,
            ["accuracy_before"] = Round(owner.Accuracy),
            ["accuracy_after_embedding"] = Round(after),
            ["owner_matches"] = ownerVerdict.Matches,
            ["owner_bit_error_rate"] = Round(ownerVerdict.BitErrorRate, 4),
            ["owner_log10_fpr"] = Round(ownerVerdict.Log10FalsePositive),
            ["verified"] = ownerVerdict.Verified,
            ["attacks"] = attacks,
        };
        if (cred.Row is { } row)
        {
            result["row"] = row;
            result["column"] = cred.Column;
        }

        return result;
    }

    private static JsonObject Entry(double accuracy, OwnershipVerdict v) => new()
    {
        ["accuracy"] = Round(accuracy),
        ["matches"] = v.Matches,
        ["bits"] = v.Bits,
        ["bit_error_rate"] = Round(v.BitErrorRate, 4),
        ["log10_fpr"] = Round(v.Log10FalsePositive),
        ["verified"] = v.Verified,
    };

    private static double Round(double v, int digits = 2) => Math.Round(v, digits);

    private static string Describe(OwnershipVerdict v) =>
        $"{v.Matches}/{v.Bits} bits, BER {v.BitErrorRate:F3}, log10 FPR {v.Log10FalsePositive:F2} → {(v.Verified ? "verified" : "rejected")}";

    private void Log(string line) => Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {line}");
}
