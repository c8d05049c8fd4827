using System.Globalization;
using System.Text.Json.Nodes;
using Sparsity.Training;

namespace Sparsity.Samples.NM;

/// <summary>
/// Merges one model's rows into the results file: <c>{"nm": [{"model", "pattern", "method", "accuracy"}], "dense": [...],
/// "runs": {model: settings and command}}</c>; rows of the same model are replaced, other models' rows kept.
/// </summary>
internal static class NMResults
{
    public static void Merge(NMArgs a, string dataSource, PretrainedModel pretrained, IReadOnlyList<NMRow> rows, IReadOnlyList<string> denseLayers)
    {
        JsonObject root = File.Exists(a.Results) && JsonNode.Parse(File.ReadAllText(a.Results)) is JsonObject existing ? existing : [];
        var nm = new JsonArray(Others(root["nm"], a.Model).ToArray());
        foreach (var r in rows)
        {
            nm.Add(new JsonObject { ["model"] = a.Model, ["pattern"] = r.Pattern, ["method"] = r.Method, ["accuracy"] = Math.Round(r.Accuracy, 2) });
        }

        var dense = new JsonArray(Others(root["dense"], a.Model).ToArray()) { new JsonObject { ["model"] = a.Model, ["accuracy"] = Math.Round(pretrained.TestAccuracy, 2) } };
        var runs = root["runs"] as JsonObject ?? [];
        runs.Remove(a.Model);
        runs[a.Model] = new JsonObject
        {
            ["command"] = a.Command,
            ["data"] = dataSource,
            ["pattern"] = a.Pattern.ToString(),
            ["dense_epochs"] = a.DenseEpochs,
            ["search_epochs"] = a.Epochs,
            ["search_batch_size"] = a.BatchSize,
            ["search_lr"] = a.LearningRate,
            ["batchnorm"] = "recalibrate after the search",
            ["seed"] = a.Seed,
            ["threads"] = a.Threads,
            ["pretrained_from_cache"] = pretrained.FromCache,
            ["layers_kept_whole"] = new JsonArray(denseLayers.Select(l => (JsonNode)JsonValue.Create(l)!).ToArray()),
            ["rows"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
            {
                ["method"] = r.Method,
                ["searched_sparsity"] = Math.Round(r.Sparsity, 6),
                ["accuracy"] = Math.Round(r.Accuracy, 2),
                ["seconds"] = Math.Round(r.Seconds, 1),
                ["flips_accepted"] = r.Flips,
            }).ToArray()),
        };
        var result = new JsonObject
        {
            ["nm"] = nm,
            ["dense"] = dense,
            ["runs"] = runs.DeepClone(),
            ["note"] = "accuracy = top-1 test accuracy in percent; magnitude = N:M magnitude mask without retraining; jackpot = N:M mask search " +
                       "(every group keeps N after every step); unstructured50 = unstructured jackpot at the same sparsity (global magnitude start); " +
                       "the classifier stays dense; written by samples/Sparsity.Samples.NM (command per model under runs).",
        };
        ResultFiles.WriteJson(a.Results, result);
    }

    private static IEnumerable<JsonNode> Others(JsonNode? array, string model) =>
        (array as JsonArray ?? []).Where(n => n?["model"]?.GetValue<string>() != model).Select(n => n!.DeepClone());
}
