using System.Text.Json.Nodes;
using Sparsity;
using Sparsity.Data;
using Sparsity.LotteryVerification;
using static TorchSharp.torch;

/// <summary>
/// Black-box trigger set (paper V3, Table 5; docs/algorithms.md#trigger-set-v3, docs/statistics.md#trigger-sets): a key-derived trigger set is mixed into the
/// retraining of the signed ticket (one trigger per batch, mask fixed, the same start, learning rate and seed as the
/// embedding retraining and by default its epochs, <c>--trigger-epochs</c>), the chance hit rate is measured on the unmarked control, and the owner model, the attacked copies and the
/// unrelated model are queried with the triggers only. JSON: <c>trigger</c>.
/// </summary>
internal sealed class TriggerExperiment(VerificationContext context)
{
    private SampleOptions Options => context.Options;

    public JsonObject Run(SignedStart signed, nn.Module<Tensor, Tensor> control, Ticket unrelated)
    {
        // Inputs uniform over the normalised pixel range of real images: (0 − mean)/std … (1 − mean)/std.
        double low = (0 - FashionMnist.Mean) / FashionMnist.Std;
        double high = (1 - FashionMnist.Mean) / FashionMnist.Std;
        using var triggers = TriggerSet.Create(context.OwnerKey, Options.TriggerCount, [.. context.Data.Train.ExampleShape], context.Data.Train.ClassCount, low: low, high: high);

        // p0 from the unmarked control (the signed ticket's twin retrained without signature and triggers).
        int controlHits = TriggerVerifier.CountHits(control, triggers);
        double chance = TriggerVerifier.MeasureChanceRate(control, triggers);
        int unrelatedHits = TriggerVerifier.CountHits(unrelated.Model, triggers);
        context.Log($"trigger: {triggers.Count} key-derived triggers; control hits {controlHits}, unrelated hits {unrelatedHits}; chance rate p0 = {chance:F3}");

        var model = context.Clone(signed.Start);
        var parameters = VerificationContext.Parameters(model);
        int epochs = Options.TriggerEpochs ?? Options.RetrainEpochs;
        context.Phase("trigger.retrain", () => context.Train(model, signed.Mask, parameters, epochs, 0.01, Options.Seed + 20,
            new TriggeredDataset(context.Data.Train, triggers, (int)Options.Seed, Options.TriggersPerBatch)));
        double accuracy = context.Evaluate(model);
        var owner = TriggerVerifier.Verify(model, triggers, chance, Options.FalsePositiveRate);
        var whiteBox = context.Verify(model, signed.Credential);
        context.Log($"trigger: owner accuracy {accuracy:F2} % (signed without triggers {signed.Accuracy:F2} %), {Describe(owner)}; white-box {VerificationContext.Describe(whiteBox)}");

        var attacks = new JsonObject();
        void Record(string attack, nn.Module<Tensor, Tensor> attacked, double? known = null)
        {
            var v = TriggerVerifier.Verify(attacked, triggers, chance, Options.FalsePositiveRate);
            double acc = known ?? context.Evaluate(attacked);
            context.Log($"trigger / {attack}: accuracy {acc:F2} %, {Describe(v)}");
            attacks[attack] = Entry(acc, v);
        }

        context.Phase("trigger.attack_finetune", () =>
        {
            using var m = context.Clone(model);
            context.Train(m, signed.Mask, VerificationContext.Parameters(m), Options.AttackEpochs, 0.01, Options.Seed + 30, context.Data.Train);
            Record("finetune", m);
        });

        context.Phase("trigger.attacks_other", () =>
        {
            foreach (var (attack, p) in new[] { ("prune10", 0.10), ("prune20", 0.20) })
            {
                using var m = context.Clone(model);
                using var attackedMask = OwnershipAttacks.Reprune(m, signed.Mask, p, RepruneMethod.Magnitude, (int)Options.Seed, VerificationContext.Parameters(m));
                Record(attack, m);
            }

            {
                using var m = context.Clone(model);
                using var attackedMask = OwnershipAttacks.AddOn(m, signed.Mask, 0.01, 0.1, (int)Options.Seed, VerificationContext.Parameters(m));
                Record("addon1", m);
            }

            Record("unrelated_model", unrelated.Model, unrelated.Accuracy);
        });

        var grid = Options.AttackGrid ? AttackGrid.Run(context, model, signed.Mask, "trigger.attack_grid", m => Entry(context.Evaluate(m), TriggerVerifier.Verify(m, triggers, chance, Options.FalsePositiveRate))) : null;

        model.Dispose();
        return new JsonObject
        {
            ["scheme"] = signed.Scheme,
            ["count"] = triggers.Count,
            ["epochs"] = epochs,
            ["triggers_per_batch"] = Options.TriggersPerBatch,
            ["exposures_per_trigger"] = VerificationContext.Round(
                epochs * Options.TriggersPerBatch * Math.Ceiling(context.Data.Train.Count / (double)(Sparsity.Training.TrainingOptions.ReferenceRecipe.BatchSize - Options.TriggersPerBatch)) / triggers.Count, 1),
            ["input_range"] = new JsonArray(VerificationContext.Round(low, 4), VerificationContext.Round(high, 4)),
            ["chance_rate"] = VerificationContext.Round(chance, 4),
            ["control_hits"] = controlHits,
            ["unrelated_hits"] = unrelatedHits,
            ["accuracy_before"] = VerificationContext.Round(signed.Accuracy),
            ["accuracy_after_embedding"] = VerificationContext.Round(accuracy),
            ["owner_hits"] = owner.Hits,
            ["owner_log10_fpr"] = VerificationContext.Round(owner.Log10FalsePositive),
            ["verified"] = owner.Verified,
            ["white_box_log10_fpr"] = VerificationContext.Round(whiteBox.Log10FalsePositive),
            ["white_box_verified"] = whiteBox.Verified,
            ["attacks"] = attacks,
            ["attack_grid"] = grid,
        };
    }

    private static JsonObject Entry(double accuracy, TriggerVerdict v) => new()
    {
        ["accuracy"] = VerificationContext.Round(accuracy),
        ["hits"] = v.Hits,
        ["count"] = v.Count,
        ["hit_rate"] = VerificationContext.Round((double)v.Hits / v.Count, 4),
        ["log10_fpr"] = VerificationContext.Round(v.Log10FalsePositive),
        ["verified"] = v.Verified,
    };

    private static string Describe(TriggerVerdict v) =>
        $"{v.Hits}/{v.Count} trigger hits, log10 FPR {v.Log10FalsePositive:F2} → {(v.Verified ? "verified" : "rejected")}";
}
