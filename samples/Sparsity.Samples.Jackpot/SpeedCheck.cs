using System.Text.Json.Nodes;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.Search;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Samples.Jackpot;

/// <summary>
/// Interleaved timing of a dense training epoch and a search epoch at the same batch size, each on a fresh
/// copy of the pre-trained model (training passes only, no evaluation), so that machine load affects both
/// alike. Round 0 warms up and is not counted. The goal: search epoch ≤ 1.3 × dense epoch.
/// </summary>
internal static class SpeedCheck
{
    public static JsonObject Run(JackpotOptions options, string weights, InitialMask initial, IDataset train, CancellationToken cancellationToken)
    {
        var dense = new List<double>();
        var search = new List<double>();
        for (int round = 0; round <= options.SpeedRounds; round++)
        {
            using (var model = Fresh(options, weights))
            {
                var recipe = TrainingOptions.ReferenceRecipe with { Epochs = 1, BatchSize = options.BatchSize, Seed = options.Seed + round, Device = options.Device };
                var seconds = new Trainer().Train(model, train, null, recipe, cancellationToken: cancellationToken).Epochs[0].Seconds;
                if (round > 0) dense.Add(seconds);
            }

            using (var model = Fresh(options, weights))
            {
                var searchOptions = new MaskSearchOptions
                {
                    Epochs = 1, BatchSize = options.BatchSize, Seed = options.Seed + round, Device = options.Device, EvaluateEveryEpoch = false,
                    Restriction = options.Restriction, BatchNorm = options.BatchNorm,
                };
                using var result = new MaskSearcher(searchOptions).Search(model, initial, train, null, null, cancellationToken);
                if (round > 0) search.Add(result.History[0].Seconds);
            }

            if (round > 0) Console.WriteLine($"speed round {round}: dense epoch {dense[^1]:F2} s, search epoch {search[^1]:F2} s");
        }

        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        return new JsonObject
        {
            ["batch_size"] = options.BatchSize,
            ["threads"] = get_num_threads(),
            ["dense_seconds"] = new JsonArray(dense.Select(v => (JsonNode)v).ToArray()),
            ["search_seconds"] = new JsonArray(search.Select(v => (JsonNode)v).ToArray()),
            ["ratio_of_minima"] = search.Min() / dense.Min(),
            ["ratio_of_medians"] = Median(search) / Median(dense),
        };
    }

    private static nn.Module<Tensor, Tensor> Fresh(JackpotOptions options, string weights)
    {
        var model = options.CreateModel();
        StateDict.Load(model, weights, strict: true);
        model.to(options.Device);
        return model;
    }
}
