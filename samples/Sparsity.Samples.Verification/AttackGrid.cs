using System.Globalization;
using System.Text.Json.Nodes;
using Sparsity;
using Sparsity.LotteryVerification;
using static TorchSharp.torch;

/// <summary>
/// The rows of the paper's attack tables that need no retraining (Chen et al., NeurIPS 2021, Tables 5, 6 and 8): one-shot
/// global magnitude re-pruning of 5–50 % of the remaining weights, random re-pruning of 5–20 %, and add-on (revive
/// 0.5–10 % of the pruned weights with N(0, 0.1²)). Each entry changes a copy of the model and returns the attacker's mask.
/// </summary>
internal static class AttackGrid
{
    public static IReadOnlyList<(string Name, Func<nn.Module, MaskSet, int, MaskSet> Apply)> Attacks { get; } =
    [
        .. new[] { 0.05, 0.10, 0.20, 0.30, 0.50 }.Select(p => Reprune("magnitude", p, RepruneMethod.Magnitude)),
        .. new[] { 0.05, 0.10, 0.20 }.Select(p => Reprune("random", p, RepruneMethod.Random)),
        .. new[] { 0.005, 0.01, 0.02, 0.05, 0.10 }.Select(r => (
            $"addon{Percent(r)}",
            (Func<nn.Module, MaskSet, int, MaskSet>)((model, mask, seed) => OwnershipAttacks.AddOn(model, mask, r, 0.1, seed, VerificationContext.Parameters(model))))),
    ];

    /// <summary>
    /// Runs every attack on its own copy of <paramref name="model"/> as phase <paramref name="phase"/>; each entry is
    /// <paramref name="judge"/>'s verdict on the attacked copy plus the attacker's remaining density.
    /// </summary>
    public static JsonObject Run(VerificationContext context, nn.Module<Tensor, Tensor> model, MaskSet mask, string phase, Func<nn.Module<Tensor, Tensor>, JsonObject> judge)
    {
        var grid = new JsonObject();
        context.Phase(phase, () =>
        {
            foreach (var (attack, apply) in Attacks)
            {
                using var m = context.Clone(model);
                using var attackedMask = apply(m, mask, (int)context.Options.Seed);
                var entry = judge(m);
                entry["density"] = VerificationContext.Round(attackedMask.Density, 5);
                grid[attack] = entry;
            }
        });
        return grid;
    }

    private static (string, Func<nn.Module, MaskSet, int, MaskSet>) Reprune(string name, double fraction, RepruneMethod method) => (
        $"{name}{Percent(fraction)}",
        (model, mask, seed) => OwnershipAttacks.Reprune(model, mask, fraction, method, seed, VerificationContext.Parameters(model)));

    private static string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture);
}
