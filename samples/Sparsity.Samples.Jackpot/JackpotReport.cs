using System.Globalization;
using System.Text.Json.Nodes;
using Sparsity.Analysis;
using Sparsity.Training;

namespace Sparsity.Samples.Jackpot;

/// <summary>Prints the main job's tables and writes its files: masks, results.json, results.csv and three plots.</summary>
internal sealed class JackpotReport(
    JackpotOptions options, string dataSource, PretrainedModel dense, IReadOnlyList<CriterionResult> criteria, IReadOnlyList<JackpotRun> jackpots,
    IReadOnlyList<DeploymentCost> costs, double denseStepSeconds, JsonObject? speed)
{
    private readonly Dictionary<(string, double), OverlapReport> _overlaps = criteria.ToDictionary(
        c => (c.Criterion, c.Sparsity),
        c => OverlapReport.Create(c.Mask, jackpots.Single(j => j.Sparsity == c.Sparsity).Search.Masks, new StratifiedOverlapNull()));

    public void Print()
    {
        var sparsities = options.Sparsities;
        SampleConsole.Table($"{options.Model} on {dataSource}: test accuracy (%) without retraining, and the jackpot",
            ["method", .. sparsities.Select(s => $"sparsity {JackpotJob.Format(s)}"), "time / dense step"],
            [
                ["dense", .. sparsities.Select(_ => F(dense.TestAccuracy)), ""],
                .. options.Criteria.Select(c => (IReadOnlyList<string>)[c, .. sparsities.Select(s => F(Criterion(c, s).TestAccuracy)), $"{criteria.Where(r => r.Criterion == c).Average(r => r.TimeRatio):F1}×"]),
                ["jackpot (search)", .. sparsities.Select(s => F(Jackpot(s).Search.FinalTestAccuracy ?? double.NaN)), ""],
            ]);
        DeploymentCost.Print(costs, options.Model);
        foreach (var run in jackpots)
        {
            SampleConsole.Table($"jackpot search at sparsity {JackpotJob.Format(run.Sparsity)} ({options.Restriction.Name} restriction, {options.Init} initialisation; epoch 0 = the magnitude mask)",
                ["epoch", "test accuracy (%)", "train loss", "flips accepted", "flips refused", "overlap with initial", "seconds"],
                [
                    ["0", F(run.MagnitudeAccuracy), "", "", "", "100.00 %", ""],
                    .. run.Search.History.Select(e => (IReadOnlyList<string>)[e.Epoch.ToString(CultureInfo.InvariantCulture), F(e.TestAccuracy ?? double.NaN), e.TrainLoss.ToString("F4", CultureInfo.InvariantCulture),
                        e.FlipsAccepted.ToString("N0", CultureInfo.InvariantCulture), e.FlipsRefused.ToString("N0", CultureInfo.InvariantCulture), $"{100 * e.OverlapWithInitial:F2} %", F(e.Seconds)]),
                ]);
        }

        foreach (var sparsity in sparsities)
        {
            SampleConsole.Table($"overlap of each criterion's mask with the jackpot mask at sparsity {JackpotJob.Format(sparsity)} (layer-stratified hypergeometric null)",
                ["criterion", "overlap |A∧J|/|J|", "chance", "z", "log10 p"],
                options.Criteria.Select(c =>
                {
                    var total = _overlaps[(c, sparsity)].Total;
                    return (IReadOnlyList<string>)[c, $"{100 * total.Counts.OverlapRatio:F2} %", $"{100 * total.Counts.ChanceRatio:F2} %", total.ZScore.ToString("F1", CultureInfo.InvariantCulture),
                        (total.IsUpperBound ? "≤ " : "") + total.Log10P.ToString("F1", CultureInfo.InvariantCulture)];
                }));
        }
    }

    public void Write()
    {
        var masks = Path.Combine(options.Out, "masks");
        Directory.CreateDirectory(masks);
        foreach (var c in criteria) c.Mask.Save(Path.Combine(masks, $"{c.Criterion}-{JackpotJob.Format(c.Sparsity)}.safetensors"));
        foreach (var j in jackpots) j.Search.Masks.Save(Path.Combine(masks, $"jackpot-{JackpotJob.Format(j.Sparsity)}.safetensors"));

        ResultFiles.WriteJson(Path.Combine(options.Out, "results.json"), Json());
        ResultFiles.WriteCsv(Path.Combine(options.Out, "results.csv"),
            ["sparsity", "method", "test_accuracy", "time_ratio", "overlap_with_jackpot", "chance_overlap", "log10_p"],
            [
                .. criteria.Select(c =>
                {
                    var total = _overlaps[(c.Criterion, c.Sparsity)].Total;
                    return (IReadOnlyList<string>)[N(c.Sparsity), c.Criterion, N(c.TestAccuracy), N(c.TimeRatio), N(total.Counts.OverlapRatio), N(total.Counts.ChanceRatio), N(total.Log10P)];
                }),
                .. jackpots.Select(j => (IReadOnlyList<string>)[N(j.Sparsity), "jackpot", N(j.Search.FinalTestAccuracy ?? double.NaN), "", "1", "", ""]),
            ]);

        Plots.Lines(Path.Combine(options.Out, "search_accuracy.png"), $"Jackpot search, {options.Model} ({dataSource})", "search epoch", "test accuracy (%)",
        [
            new PlotSeries("dense", [0, options.Epochs], [dense.TestAccuracy, dense.TestAccuracy]),
            .. jackpots.Select(j => new PlotSeries($"jackpot, sparsity {JackpotJob.Format(j.Sparsity)}",
                [0, .. j.Search.History.Select(e => (double)e.Epoch)], [j.MagnitudeAccuracy, .. j.Search.History.Select(e => e.TestAccuracy ?? double.NaN)])),
        ]);
        var sparsities = options.Sparsities.Order().ToList();
        Plots.Lines(Path.Combine(options.Out, "accuracy_vs_sparsity.png"), $"Accuracy without retraining vs the jackpot, {options.Model}", "sparsity", "test accuracy (%)",
        [
            new PlotSeries("dense", [sparsities[0], sparsities[^1]], [dense.TestAccuracy, dense.TestAccuracy]),
            .. options.Criteria.Select(c => new PlotSeries(c, sparsities, sparsities.Select(s => Criterion(c, s).TestAccuracy).ToList())),
            new PlotSeries("jackpot", sparsities, sparsities.Select(s => Jackpot(s).Search.FinalTestAccuracy ?? double.NaN).ToList()),
        ]);
        var first = options.Sparsities[0];
        var layers = Jackpot(first).Search.Masks.Names;
        var values = new double[layers.Count, options.Criteria.Count];
        for (int c = 0; c < options.Criteria.Count; c++)
        {
            var rows = _overlaps[(options.Criteria[c], first)].Layers;
            for (int l = 0; l < layers.Count; l++) values[l, c] = rows[l].Counts.OverlapRatio;
        }

        Plots.Heatmap(Path.Combine(options.Out, "overlap_heatmap.png"), $"Overlap with the jackpot mask, sparsity {JackpotJob.Format(first)}",
            layers, options.Criteria, values, "|A ∧ J| / |J|");
        Console.WriteLine($"wrote {options.Out}/: results.json, results.csv, masks/*.safetensors, search_accuracy.png, accuracy_vs_sparsity.png, overlap_heatmap.png");
    }

    private JsonObject Json()
    {
        var first = Jackpot(options.Sparsities[0]);
        var json = new JsonObject
        {
            ["model"] = options.Model,
            ["sparsity"] = first.Sparsity,
            ["seed"] = options.Seed,
            ["dataset"] = dataSource,
            ["device"] = options.Device.ToString(),
            ["dense"] = new JsonObject
            {
                ["test_accuracy"] = dense.TestAccuracy,
                ["seconds_per_epoch"] = Numbers(dense.SecondsPerEpoch),
                ["test_accuracy_per_epoch"] = Numbers(dense.Epochs.Select(e => e.TestAccuracy ?? double.NaN)),
                ["epochs"] = dense.Epochs.Count,
                ["from_cache"] = dense.FromCache,
                ["parameters"] = first.Search.Masks.TotalCount,
            },
            ["magnitude"] = new JsonObject { ["test_accuracy"] = first.MagnitudeAccuracy },
            ["search"] = SearchJson(first),
            ["criteria"] = new JsonObject(options.Sparsities.Select(s => KeyValuePair.Create(JackpotJob.Format(s), (JsonNode?)new JsonObject(
                options.Criteria.Select(c =>
                {
                    var r = Criterion(c, s);
                    var total = _overlaps[(c, s)].Total;
                    return KeyValuePair.Create(c, (JsonNode?)new JsonObject
                    {
                        ["test_accuracy"] = r.TestAccuracy,
                        ["time_ratio"] = J(r.TimeRatio),
                        ["seconds"] = r.Seconds,
                        ["overlap_with_jackpot"] = J(total.Counts.OverlapRatio),
                        ["chance_overlap"] = J(total.Counts.ChanceRatio),
                        ["overlap_log10_p"] = J(total.Log10P),
                    });
                }))))),
            ["costs"] = DeploymentCost.Json(costs),
            ["dense_step_seconds"] = denseStepSeconds,
            ["speed"] = speed,
            ["runs"] = new JsonArray(jackpots.Select(j => (JsonNode)new JsonObject
            {
                ["sparsity"] = j.Sparsity,
                ["magnitude"] = new JsonObject { ["test_accuracy"] = j.MagnitudeAccuracy },
                ["search"] = SearchJson(j),
            }).ToArray()),
        };
        return json;
    }

    private JsonObject SearchJson(JackpotRun run)
    {
        var history = run.Search.History;
        var reach = history.FirstOrDefault(e => e.TestAccuracy >= dense.TestAccuracy - 1.0)?.Epoch;
        return new JsonObject
        {
            ["test_accuracy"] = Numbers(history.Select(e => e.TestAccuracy ?? double.NaN)),
            ["final_test_accuracy"] = J(run.Search.FinalTestAccuracy ?? double.NaN),
            ["batch_norm"] = run.Search.Options.BatchNorm.ToString(),
            ["seconds_per_epoch"] = Numbers(history.Select(e => e.Seconds)),
            ["train_loss"] = Numbers(history.Select(e => e.TrainLoss)),
            ["flips_accepted"] = new JsonArray(history.Select(e => (JsonNode)e.FlipsAccepted).ToArray()),
            ["flips_refused"] = new JsonArray(history.Select(e => (JsonNode)e.FlipsRefused).ToArray()),
            ["overlap_with_initial"] = run.Search.OverlapWithInitial,
            ["restriction"] = options.Restriction.Name,
            ["init"] = options.Init,
            ["epochs_to_dense_minus_1"] = reach,
            ["kept"] = run.Search.Masks.KeptCount,
            ["selection"] = new JsonObject
            {
                ["count_hits"] = run.Search.Selection.CountHits,
                ["band_hits"] = run.Search.Selection.BandHits,
                ["exact"] = run.Search.Selection.ExactSelections,
            },
        };
    }

    private CriterionResult Criterion(string name, double sparsity) => criteria.Single(c => c.Criterion == name && c.Sparsity == sparsity);

    private JackpotRun Jackpot(double sparsity) => jackpots.Single(j => j.Sparsity == sparsity);

    private static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(J).ToArray());

    /// <summary>A JSON number, or null for NaN and infinities (which JSON cannot hold).</summary>
    private static JsonNode? J(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);

    private static string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
