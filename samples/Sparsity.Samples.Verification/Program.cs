// Lottery-ticket ownership verification end to end (Chen et al., NeurIPS 2021; docs/lottery-verification.md):
// pre-train (or reuse) → one-shot magnitude ticket + fine-tune → control (unsigned retraining) → per scheme (QR, keyed):
// embed, retrain with the mask fixed, verify, attack, verify again (SchemeExperiment) → trigger set (TriggerExperiment) →
// key-mask gap (KeyMaskExperiment) → signed jackpot vs embed-then-fine-tune (SignedJackpotExperiment);
// writes OUT/verification.json with the seconds of every phase.
using System.Text.Json.Nodes;
using Sparsity.Samples;
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

if (options.Threads is { } threads)
{
    set_num_threads(threads);
}

using var cancel = SampleConsole.CancelOnCtrlC();
Directory.CreateDirectory(options.Out);
var json = VerificationRun.Execute(new VerificationContext(options, cancel.Token));
var path = Path.Combine(options.Out, "verification.json");
ResultFiles.WriteJson(path, json);
VerdictReport.Print(json);
VerdictReport.Plot(json, Path.Combine(options.Out, "verification.png"));
Console.WriteLine($"Wrote {path} and verification.png");
return 0;

/// <summary>The orchestrator: shared setup, then one experiment after another, each writing its own JSON section.</summary>
internal static class VerificationRun
{
    public static JsonObject Execute(VerificationContext context)
    {
        var options = context.Options;
        context.LoadData();
        var owner = context.MakeTicket(options.Seed, options.PretrainEpochs, "owner");
        context.Log($"ticket: density {owner.Mask.Density:P2} over {owner.Mask.LayerCount} layers, accuracy {owner.Accuracy:F2} %");
        var unrelated = context.MakeTicket(options.Seed + 1, options.UnrelatedPretrainEpochs, "unrelated");
        context.Log($"unrelated ticket (seed {options.Seed + 1}, {options.UnrelatedPretrainEpochs} pre-training epochs): accuracy {unrelated.Accuracy:F2} %");

        var root = new JsonObject
        {
            ["model"] = options.Model,
            ["seed"] = options.Seed,
            ["data"] = context.Data.Source,
            ["train_count"] = context.Data.Train.Count,
            ["test_count"] = context.Data.Test.Count,
            ["threads"] = get_num_threads(),
            ["ticket_density"] = owner.Mask.Density,
            ["ticket_layers"] = owner.Mask.LayerCount,
            ["false_positive_threshold"] = options.FalsePositiveRate,
            ["epochs"] = new JsonObject
            {
                ["pretrain"] = options.PretrainEpochs,
                ["pretrain_unrelated"] = options.UnrelatedPretrainEpochs,
                ["ticket"] = options.TicketEpochs,
                ["retrain"] = options.RetrainEpochs,
                ["attack_finetune"] = options.AttackEpochs,
                ["search"] = options.SearchEpochs,
            },
        };

        // Control: the same retraining without a signature, so the embedding cost is not confounded with the extra epochs.
        var control = context.Phase("control", () =>
        {
            var m = context.Clone(owner.Model);
            context.Train(m, owner.Mask, VerificationContext.Parameters(m), options.RetrainEpochs, 0.01, options.Seed + 20, context.Data.Train);
            return m;
        });
        double controlAccuracy = context.Evaluate(control);
        root["ticket_accuracy"] = VerificationContext.Round(owner.Accuracy);
        root["ticket_retrained_accuracy"] = VerificationContext.Round(controlAccuracy);
        context.Log($"control: ticket retrained {options.RetrainEpochs} epochs without a signature: {controlAccuracy:F2} %");

        var schemes = new JsonObject();
        var signedStarts = new List<SignedStart>();
        try
        {
            var schemeExperiment = new SchemeExperiment(context);
            foreach (var name in options.Schemes.Where(s => s != "none"))
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                try
                {
                    var (entry, signed) = schemeExperiment.Run(name, owner, unrelated);
                    signedStarts.Add(signed);
                    entry["accuracy_control"] = VerificationContext.Round(controlAccuracy);
                    entry["embedding_cost"] = VerificationContext.Round(controlAccuracy - entry["accuracy_after_embedding"]!.GetValue<double>());
                    schemes[name] = entry;
                }
                catch (ArgumentException e) when (name == "qr")
                {
                    context.Log($"qr: {e.Message}");
                    schemes[name] = new JsonObject { ["error"] = e.Message };
                }
            }

            root["schemes"] = schemes;

            // V3 = V2 + triggers: the paper's QR-signed ticket when it exists, else the keyed one.
            if (options.Runs("trigger"))
            {
                var signed = signedStarts.FirstOrDefault(s => s.Scheme == "qr") ?? signedStarts.FirstOrDefault();
                if (signed is null)
                {
                    context.Log("trigger: skipped (no signed ticket: --schemes none or every scheme failed)");
                    root["trigger"] = new JsonObject { ["error"] = "no signed ticket to retrain with triggers (--schemes none or every scheme failed)" };
                }
                else
                {
                    root["trigger"] = new TriggerExperiment(context).Run(signed, control, unrelated);
                }
            }

            if (options.Runs("key_mask"))
            {
                root["key_mask"] = new KeyMaskExperiment(context).Run(owner);
            }

            if (options.Runs("signed_jackpot"))
            {
                root["signed_jackpot"] = new SignedJackpotExperiment(context).Run(owner, schemes);
            }
        }
        finally
        {
            foreach (var s in signedStarts)
            {
                s.Dispose();
            }
        }

        root["seconds"] = context.Seconds();
        return root;
    }
}
