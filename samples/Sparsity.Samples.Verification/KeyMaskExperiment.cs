using System.Text.Json.Nodes;
using Sparsity;
using Sparsity.LotteryVerification;

/// <summary>
/// Key-mask scheme V1 (paper Algorithm 1, Table 4, Fig. 2; docs/algorithms.md#key-masks-v1): the top <c>--key-fraction</c> of the
/// ticket's kept weights by |W| of the trained ticket (the paper's OMP score) form the key M_s, the rest the locked mask
/// M_l = M − M_s. As in the official code (which retrains the locked mask from the rewind point), both masks are trained
/// from the ticket's starting point — here the dense pre-trained weights — with the ticket's recipe (lr 0.01, seed + 10)
/// and the same epochs (<c>--key-mask-epochs</c>, default <c>--ticket-epochs</c>): once with the full ticket M (the
/// legitimate user who holds the key; with the ticket's epochs this is the owner's ticket itself) and once with M_l only.
/// The gap full − locked is the protection (paper criterion: more than 1 point). JSON: <c>key_mask</c>.
/// </summary>
internal sealed class KeyMaskExperiment(VerificationContext context)
{
    private SampleOptions Options => context.Options;

    public JsonObject Run(Ticket owner)
    {
        using var split = KeyMaskSplitter.Split(owner.Model, owner.Mask, Options.KeyFraction, KeyMaskScore.Magnitude, VerificationContext.Parameters(owner.Model));
        context.Log($"key_mask: key {split.Key.KeptCount} weights ({split.RelativeKeyDensity:P2} of {owner.Mask.KeptCount}), locked {split.Locked.KeptCount}");

        // Without retraining: the owner's trained weights with the key removed.
        double noRetrain;
        using (var m = context.Clone(owner.Model))
        {
            split.Locked.ApplyTo(m, VerificationContext.Parameters(m));
            noRetrain = context.Evaluate(m);
        }

        // The paper's fake1: a forged key mask drawn at random from the kept weights with the same relative density.
        // Removing it from the trained ticket (no retraining) should cost little, unlike removing the owner's key.
        double forgedRemoved;
        using (var forged = OwnershipAttacks.ForgedKeyMask(owner.Mask, Options.KeyFraction, (int)Options.Seed + 40))
        using (var m = context.Clone(owner.Model))
        {
            forged.Locked.ApplyTo(m, VerificationContext.Parameters(m));
            forgedRemoved = context.Evaluate(m);
        }

        context.Log($"key_mask / fake1: trained ticket without a random forged key of the same density, no retraining: {forgedRemoved:F2} % (without the owner's key: {noRetrain:F2} %)");

        // Both arms follow the ticket's own recipe (lr 0.01, seed + 10) from the dense pre-trained weights; with the ticket's
        // epochs the full arm is the owner's ticket itself, so only the locked arm costs training time.
        int epochs = Options.KeyMaskEpochs ?? Options.TicketEpochs;
        double Retrain(MaskSet mask, string phase) => context.Phase(phase, () =>
        {
            using var m = context.Clone(owner.Dense);
            context.Train(m, mask, VerificationContext.Parameters(m), epochs, 0.01, Options.Seed + 10, context.Data.Train);
            return context.Evaluate(m);
        });

        bool fullIsTicket = epochs == Options.TicketEpochs;
        double full = fullIsTicket ? owner.Accuracy : Retrain(owner.Mask, "key_mask.full");
        double locked = Retrain(split.Locked, "key_mask.locked");
        context.Log($"key_mask: trained {epochs} epoch(s) from the dense weights: full ticket {full:F2} %{(fullIsTicket ? " (the owner's ticket)" : "")}, locked mask only {locked:F2} %, gap {full - locked:F2} points; trained ticket without key, no retraining: {noRetrain:F2} %");
        return new JsonObject
        {
            ["score"] = "magnitude",
            ["key_fraction"] = Options.KeyFraction,
            ["key_count"] = split.Key.KeptCount,
            ["locked_count"] = split.Locked.KeptCount,
            ["relative_key_density"] = VerificationContext.Round(split.RelativeKeyDensity, 4),
            ["retrained_from"] = "dense pre-trained weights",
            ["epochs"] = epochs,
            ["full_is_owner_ticket"] = fullIsTicket,
            ["accuracy_ticket"] = VerificationContext.Round(owner.Accuracy),
            ["accuracy_without_key_no_retraining"] = VerificationContext.Round(noRetrain),
            ["accuracy_without_forged_key_no_retraining"] = VerificationContext.Round(forgedRemoved),
            ["accuracy_full"] = VerificationContext.Round(full),
            ["accuracy_locked"] = VerificationContext.Round(locked),
            ["gap"] = VerificationContext.Round(full - locked),
            ["gap_exceeds_1_point"] = full - locked > 1,
        };
    }
}
