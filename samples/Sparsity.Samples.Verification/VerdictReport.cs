using System.Text.Json.Nodes;
using Sparsity.Samples;

/// <summary>The readable end of the sample: one verdict table per scheme and experiment, the seconds per phase, and a plot of the claims' log10 FPR.</summary>
internal static class VerdictReport
{
    private static readonly string[] Attacks = ["finetune", "prune10", "prune20", "addon1", "overwrite", "forged_key", "unrelated_model"];

    private static readonly string[] TriggerAttacks = ["finetune", "prune10", "prune20", "addon1", "unrelated_model"];

    public static void Print(JsonObject json)
    {
        var threshold = Math.Log10(json["false_positive_threshold"]!.GetValue<double>());
        if (json["schemes"] is JsonObject schemes)
        {
            foreach (var (name, node) in schemes)
            {
                if (node is not JsonObject scheme || scheme["attacks"] is not JsonObject attacks)
                {
                    Console.WriteLine($"{name}: {node?["error"]}");
                    continue;
                }

                SampleConsole.Table(
                    $"{name} signature: accuracy {Text(scheme["accuracy_before"])} % before, {Text(scheme["accuracy_after_embedding"])} % after embedding; threshold log10 FPR ≤ {threshold:F0}",
                    ["claim", "accuracy (%)", "log10 FPR", "verdict"],
                    [
                        ["owner", Text(scheme["accuracy_after_embedding"]), Text(scheme["owner_log10_fpr"]), Verdict(scheme["verified"])],
                        .. Attacks.Where(attacks.ContainsKey).Select(a => (IReadOnlyList<string>)[a, Text(attacks[a]!["accuracy"]), Text(attacks[a]!["log10_fpr"]), Verdict(attacks[a]!["verified"])]),
                    ]);
            }
        }

        if (json["schemes"] is JsonObject gridSchemes)
        {
            foreach (var (name, node) in gridSchemes)
            {
                PrintGrid($"{name} signature under the paper's attack grid (no retraining)", node?["attack_grid"], "matches", "bits");
            }
        }

        PrintTrigger(json["trigger"], threshold);
        PrintGrid("trigger set under the paper's attack grid (no retraining)", json["trigger"]?["attack_grid"], "hits", "count");
        PrintKeyMask(json["key_mask"]);
        PrintSignedJackpot(json["signed_jackpot"]);
        PrintSeconds(json["seconds"]);
    }

    private static void PrintTrigger(JsonNode? node, double threshold)
    {
        if (node is not JsonObject trigger)
        {
            return;
        }

        if (trigger["attacks"] is not JsonObject attacks)
        {
            Console.WriteLine($"trigger: {trigger["error"]}");
            return;
        }

        SampleConsole.Table(
            $"trigger set (black box, {Text(trigger["scheme"])}-signed ticket): {Text(trigger["count"])} triggers, chance rate p0 {Text(trigger["chance_rate"])} (control hits {Text(trigger["control_hits"])}); accuracy {Text(trigger["accuracy_before"])} % without triggers; threshold log10 FPR ≤ {threshold:F0}",
            ["claim", "accuracy (%)", "trigger hits", "log10 FPR", "verdict"],
            [
                ["owner", Text(trigger["accuracy_after_embedding"]), $"{Text(trigger["owner_hits"])}/{Text(trigger["count"])}", Text(trigger["owner_log10_fpr"]), Verdict(trigger["verified"])],
                .. TriggerAttacks.Where(attacks.ContainsKey).Select(a => (IReadOnlyList<string>)
                    [a, Text(attacks[a]!["accuracy"]), $"{Text(attacks[a]!["hits"])}/{Text(attacks[a]!["count"])}", Text(attacks[a]!["log10_fpr"]), Verdict(attacks[a]!["verified"])]),
            ]);
    }

    /// <summary>The rows of <see cref="AttackGrid"/>: remaining density, accuracy, matching bits or trigger hits, verdict.</summary>
    private static void PrintGrid(string title, JsonNode? node, string hitKey, string countKey)
    {
        if (node is not JsonObject grid)
        {
            return;
        }

        SampleConsole.Table(
            title,
            ["attack", "remaining density", "accuracy (%)", hitKey, "log10 FPR", "verdict"],
            [.. grid.Select(e => (IReadOnlyList<string>)
                [e.Key, Text(e.Value!["density"]), Text(e.Value["accuracy"]), $"{Text(e.Value[hitKey])}/{Text(e.Value[countKey])}", Text(e.Value["log10_fpr"]), Verdict(e.Value["verified"])])]);
    }

    private static void PrintKeyMask(JsonNode? node)
    {
        if (node is not JsonObject key)
        {
            return;
        }

        SampleConsole.Table(
            $"key mask (V1): key = top {Text(key["key_fraction"])} of kept weights by |W| ({Text(key["key_count"])} weights); both trained {Text(key["epochs"])} epoch(s) from the {key["retrained_from"]?.GetValue<string>()}",
            ["mask", "accuracy (%)"],
            [
                ["ticket (as trained)", Text(key["accuracy_ticket"])],
                ["ticket without key, no retraining", Text(key["accuracy_without_key_no_retraining"])],
                ["ticket without a random forged key (fake1), no retraining", Text(key["accuracy_without_forged_key_no_retraining"])],
                ["full ticket (with key), trained", Text(key["accuracy_full"])],
                ["locked mask only (no key), trained", Text(key["accuracy_locked"])],
                ["gap (full − locked), points", Text(key["gap"])],
            ]);
    }

    private static void PrintSignedJackpot(JsonNode? node)
    {
        if (node is not JsonObject jackpot || jackpot["schemes"] is not JsonObject schemes)
        {
            return;
        }

        List<IReadOnlyList<string>> rows =
        [
            ["start (magnitude)", Text(jackpot["accuracy_initial"]), "", "", "", ""],
            ["(a) unsigned", Text(jackpot["accuracy_unconstrained"]), "", "", "", ""],
        ];
        foreach (var (name, entry) in schemes)
        {
            if (entry?["error"] is { } error)
            {
                rows.Add([$"(b) {name}", "error (see JSON)", "", "", "", ""]);
                continue;
            }

            rows.Add([$"(b) {name}", Text(entry!["accuracy"]), Text(entry["cost"]), Text(entry["embed_then_finetune_cost"]), Text(entry["owner_log10_fpr"]), Verdict(entry["verified"])]);
        }

        SampleConsole.Table(
            $"signed jackpot: mask search {Text(jackpot["search_epochs"])} epoch(s) from the dense model at density {Text(jackpot["initial_density"])}; cost a − b next to embed-then-fine-tune cost (control − signed)",
            ["jackpot", "acc %", "a − b", "embed cost", "log10 FPR", "verdict"],
            rows);
    }

    private static void PrintSeconds(JsonNode? node)
    {
        if (node is not JsonObject seconds || seconds["phases"] is not JsonObject phases)
        {
            return;
        }

        var rows = phases.Select(p => (IReadOnlyList<string>)[p.Key, Text(p.Value)]).ToList();
        if (seconds["across_phases"] is JsonObject within)
        {
            rows.AddRange(within.Select(p => (IReadOnlyList<string>)[$"({p.Key}, all phases)", Text(p.Value)]));
        }

        rows.Add(["total", Text(seconds["total"])]);
        SampleConsole.Table("seconds per phase", ["phase", "seconds"], rows);
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

    private static string Text(JsonNode? value) => value is null ? "" : value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value.ToJsonString();

    private static string Verdict(JsonNode? value) => value?.GetValue<bool>() == true ? "verified" : "rejected";
}
