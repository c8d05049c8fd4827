using System.Diagnostics;
using System.Text.Json.Nodes;
using Sparsity;
using Sparsity.LotteryVerification;
using Sparsity.Search;
using static TorchSharp.torch;

/// <summary>
/// Signed jackpot vs embed-then-fine-tune (docs/lottery-verification.md, "Signing a jackpot"): from the dense pre-trained
/// model, the global magnitude mask at the ticket's density over the ticket's layers is the search's starting mask; the
/// Lottery Jackpots mask search (<see cref="MaskSearcher"/>, weights never trained) runs (a) without constraint and (b) with
/// each scheme's signature planned on that starting mask as a <see cref="MaskConstraint"/>, same options and epochs.
/// (b)'s jackpot is verified (owner claim) and (a)'s against (b)'s credential (must be rejected). Cost of signing = (a) − (b),
/// reported next to the embed-then-fine-tune cost (control − signed) of the scheme runs. JSON: <c>signed_jackpot</c>.
/// </summary>
internal sealed class SignedJackpotExperiment(VerificationContext context)
{
    private SampleOptions Options => context.Options;

    public JsonObject Run(Ticket owner, JsonObject schemeEntries)
    {
        var parameters = VerificationContext.Parameters(owner.Dense).Where(p => owner.Mask.Contains(p.Name)).ToList();
        using var scores = VerificationContext.MagnitudeScores(parameters);
        using var initialMask = new GlobalAllocation().Allocate(scores, owner.Mask.Sparsity);
        double initialAccuracy;
        using (var m = context.Clone(owner.Dense))
        {
            initialMask.ApplyTo(m, VerificationContext.Parameters(m).Where(p => owner.Mask.Contains(p.Name)).ToList());
            initialAccuracy = context.Evaluate(m);
        }

        context.Log($"signed_jackpot: magnitude start mask at density {initialMask.Density:P2} over {initialMask.LayerCount} layers: {initialAccuracy:F2} % without search");

        var (unsigned, unsignedSeconds) = Search(owner.Dense, null, initialMask, scores, "signed_jackpot.unconstrained");
        double unsignedAccuracy = unsigned.FinalTestAccuracy ?? double.NaN;
        context.Log($"signed_jackpot: unconstrained search {Options.SearchEpochs} epoch(s): {unsignedAccuracy:F2} % ({unsignedSeconds:F0} s)");

        var schemes = new JsonObject();
        foreach (var name in Options.Schemes.Where(s => s != "none"))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            try
            {
                var scheme = context.Scheme(name);
                var credential = scheme.Plan(initialMask);
                var constraint = scheme.ToConstraint(initialMask, credential, (int)Options.Seed);
                var (signedResult, seconds) = Search(owner.Dense, constraint, initialMask, scores, $"signed_jackpot.{name}");
                using (signedResult)
                {
                    double accuracy = signedResult.FinalTestAccuracy ?? double.NaN;
                    var owned = context.Verify(signedResult.Masks, credential);
                    var other = context.Verify(unsigned.Masks, credential);
                    context.Log($"signed_jackpot / {name}: {accuracy:F2} % (cost {unsignedAccuracy - accuracy:F2} points), owner {VerificationContext.Describe(owned)}; unconstrained jackpot {VerificationContext.Describe(other)}");
                    var entry = new JsonObject
                    {
                        ["layer"] = credential.Layer,
                        ["bits"] = credential.Bits.Count,
                        ["accuracy"] = VerificationContext.Round(accuracy),
                        ["cost"] = VerificationContext.Round(unsignedAccuracy - accuracy),
                        ["owner_matches"] = owned.Matches,
                        ["owner_log10_fpr"] = VerificationContext.Round(owned.Log10FalsePositive),
                        ["verified"] = owned.Verified,
                        ["unconstrained_log10_fpr"] = VerificationContext.Round(other.Log10FalsePositive),
                        ["unconstrained_verified"] = other.Verified,
                        ["overlap_with_initial"] = VerificationContext.Round(signedResult.OverlapWithInitial, 4),
                        ["seconds"] = Math.Round(seconds, 1),
                    };
                    if (schemeEntries[name] is JsonObject embedded && embedded["embedding_cost"] is { } embedCost)
                    {
                        entry["embed_then_finetune_cost"] = embedCost.DeepClone();
                    }

                    schemes[name] = entry;
                }
            }
            catch (ArgumentException e)
            {
                context.Log($"signed_jackpot / {name}: {e.Message}");
                schemes[name] = new JsonObject { ["error"] = e.Message };
            }
        }

        var result = new JsonObject
        {
            ["search_epochs"] = Options.SearchEpochs,
            ["initial_density"] = VerificationContext.Round(initialMask.Density, 6),
            ["accuracy_initial"] = VerificationContext.Round(initialAccuracy),
            ["accuracy_unconstrained"] = VerificationContext.Round(unsignedAccuracy),
            ["unconstrained_overlap_with_initial"] = VerificationContext.Round(unsigned.OverlapWithInitial, 4),
            ["unconstrained_seconds"] = Math.Round(unsignedSeconds, 1),
            ["schemes"] = schemes,
        };
        unsigned.Dispose();
        return result;
    }

    /// <summary>One search from a fresh copy of the dense model (the search updates BatchNorm statistics in place).</summary>
    private (SearchResult Result, double Seconds) Search(nn.Module<Tensor, Tensor> dense, MaskConstraint? constraint, MaskSet initialMask, ScoreSet scores, string phase) =>
        context.Phase(phase, () =>
        {
            var watch = Stopwatch.StartNew();
            using var model = context.Clone(dense);
            using var initial = new InitialMask(scores.Clone(), initialMask.Clone());
            var searcher = new MaskSearcher(new MaskSearchOptions
            {
                Epochs = Options.SearchEpochs,
                Seed = Options.Seed,
                EvaluateEveryEpoch = false,
                Constraint = constraint,
            });
            var result = searcher.Search(model, initial, context.Data.Train, context.Data.Test, cancellationToken: context.CancellationToken);
            return (result, watch.Elapsed.TotalSeconds);
        });
}
