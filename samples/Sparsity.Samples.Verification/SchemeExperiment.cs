using System.Text.Json.Nodes;
using Sparsity;
using Sparsity.LotteryVerification;
using static TorchSharp.torch;

/// <summary>
/// A signed ticket kept for the later experiments: the signed mask, its credential and the weights the retraining
/// started from (ticket weights where the ticket keeps, dense pre-trained weights elsewhere). Owns all three.
/// </summary>
internal sealed record SignedStart(string Scheme, MaskSet Mask, SignatureCredential Credential, nn.Module<Tensor, Tensor> Start, double Accuracy) : IDisposable
{
    public void Dispose()
    {
        Mask.Dispose();
        Start.Dispose();
    }
}

/// <summary>
/// White-box schemes (paper V2; docs/algorithms.md#qr-signature-in-the-connectivity-v2 and #attacks): embed a scheme's signature into the ticket mask, retrain with
/// the mask fixed, verify, then run every attack on copies and verify again. JSON: <c>schemes.&lt;name&gt;</c>.
/// </summary>
internal sealed class SchemeExperiment(VerificationContext context)
{
    private SampleOptions Options => context.Options;

    public (JsonObject Entry, SignedStart Signed) Run(string name, Ticket owner, Ticket unrelated)
    {
        var scheme = context.Scheme(name);

        // The signed model starts from the ticket's weights where the ticket keeps, the dense pre-trained weights elsewhere,
        // so positions the signature switches on start from their pre-trained values; the rebalance prefers large |W_dense|.
        var model = context.Clone(owner.Model);
        var parameters = VerificationContext.Parameters(model);
        var denseParameters = VerificationContext.Parameters(owner.Dense).ToDictionary(p => p.Name);
        using (var noGrad = no_grad())
        {
            foreach (var p in parameters)
            {
                using var merged = where(owner.Mask[p.Name], p.Weight, denseParameters[p.Name].Weight);
                p.Weight.copy_(merged);
            }
        }

        var start = context.Clone(model);
        SignedTicket signed;
        using (var priority = VerificationContext.MagnitudeScores(denseParameters.Values.Where(p => owner.Mask.Contains(p.Name))))
        {
            signed = context.Phase($"{name}.embed", () => scheme.Embed(owner.Mask, seed: (int)Options.Seed, priority: priority));
        }

        var cred = signed.Credential;
        cred.Save(Path.Combine(Options.Out, $"credential.{name}.json"));
        var flips = owner.Mask.Flips(signed.Mask);
        context.Log($"{name}: {cred.Bits.Count} bits in {cred.Layer}{(cred.Row is { } r ? $" at ({r}, {cred.Column})" : "")}; {flips.TurnedOn} on / {flips.TurnedOff} off, kept count {signed.Mask.KeptCount} = {owner.Mask.KeptCount}");
        context.Phase($"{name}.retrain", () => context.Train(model, signed.Mask, parameters, Options.RetrainEpochs, 0.01, Options.Seed + 20, context.Data.Train));
        double after = context.Evaluate(model);
        var ownerVerdict = context.Verify(model, cred);
        context.Log($"{name}: accuracy {owner.Accuracy:F2} → {after:F2} %, owner {VerificationContext.Describe(ownerVerdict)}");

        var attacks = new JsonObject();
        void Record(string attack, nn.Module<Tensor, Tensor> attacked, SignatureCredential credential, double? accuracy = null)
        {
            var v = context.Verify(attacked, credential);
            double acc = accuracy ?? context.Evaluate(attacked);
            context.Log($"{name} / {attack}: accuracy {acc:F2} %, {VerificationContext.Describe(v)}");
            attacks[attack] = VerificationContext.Entry(acc, v);
        }

        context.Phase($"{name}.attack_finetune", () =>
        {
            using var m = context.Clone(model);
            context.Train(m, signed.Mask, VerificationContext.Parameters(m), Options.AttackEpochs, 0.01, Options.Seed + 30, context.Data.Train);
            Record("finetune", m, cred);
        });

        context.Phase($"{name}.attacks_other", () =>
        {
            foreach (var (attack, p) in new[] { ("prune10", 0.10), ("prune20", 0.20) })
            {
                using var m = context.Clone(model);
                using var attackedMask = OwnershipAttacks.Reprune(m, signed.Mask, p, RepruneMethod.Magnitude, (int)Options.Seed, VerificationContext.Parameters(m));
                Record(attack, m, cred);
            }

            {
                using var m = context.Clone(model);
                using var attackedMask = OwnershipAttacks.AddOn(m, signed.Mask, 0.01, 0.1, (int)Options.Seed, VerificationContext.Parameters(m));
                Record("addon1", m, cred);
            }

            ISignatureScheme forger = name == "qr"
                ? new QrSignatureScheme(new QrSignatureOptions { Message = "signature2", Placement = (cred.Layer, cred.Row!.Value, cred.Column!.Value) })
                : new KeyedSignatureScheme(context.ThiefKey, new KeyedSignatureOptions { Layer = cred.Layer });
            {
                using var m = context.Clone(model);
                using var forged = OwnershipAttacks.Overwrite(m, signed.Mask, forger, 0.1, (int)Options.Seed, VerificationContext.Parameters(m));
                Record("overwrite", m, cred);
                var forgerVerdict = context.Verify(m, forged.Credential);
                attacks["overwrite"]!["forger_log10_fpr"] = VerificationContext.Round(forgerVerdict.Log10FalsePositive);
                attacks["overwrite"]!["forger_verified"] = forgerVerdict.Verified;
            }

            ISignatureScheme claimant = name == "qr"
                ? new QrSignatureScheme(new QrSignatureOptions { Message = "thief", CandidateLayers = Options.Model == "resnet20" ? ["layer2.*"] : [] })
                : new KeyedSignatureScheme(context.ThiefKey);
            using (var ownerMask = SignatureReader.MasksFromWeights(model, signed.Mask.Names))
            {
                Record("forged_key", model, OwnershipAttacks.ForgedClaim(claimant, ownerMask), after);
            }

            Record("unrelated_model", unrelated.Model, cred, unrelated.Accuracy);
        });

        var grid = Options.AttackGrid ? AttackGrid.Run(context, model, signed.Mask, $"{name}.attack_grid", m => VerificationContext.Entry(context.Evaluate(m), context.Verify(m, cred))) : null;

        var result = new JsonObject
        {
            ["layer"] = cred.Layer,
            ["bits"] = cred.Bits.Count,
            ["places_compared"] = cred.PlacesCompared,
            ["null_model"] = ownerVerdict.NullDescription,
            ["claim_fingerprint"] = cred.Claim.Fingerprint,
            ["turned_on"] = flips.TurnedOn,
            ["turned_off"] = flips.TurnedOff,
            ["accuracy_before"] = VerificationContext.Round(owner.Accuracy),
            ["accuracy_after_embedding"] = VerificationContext.Round(after),
            ["owner_matches"] = ownerVerdict.Matches,
            ["owner_bit_error_rate"] = VerificationContext.Round(ownerVerdict.BitErrorRate, 4),
            ["owner_log10_fpr"] = VerificationContext.Round(ownerVerdict.Log10FalsePositive),
            ["verified"] = ownerVerdict.Verified,
            ["attacks"] = attacks,
            ["attack_grid"] = grid,
        };
        if (cred.Row is { } row)
        {
            result["row"] = row;
            result["column"] = cred.Column;
        }

        model.Dispose();
        var kept = new SignedStart(name, signed.Mask.Clone(), cred, start, after);
        signed.Dispose();
        return (result, kept);
    }
}
