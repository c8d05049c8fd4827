using System.Diagnostics;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.Search;
using Sparsity.Training;
using static TorchSharp.torch;

namespace Sparsity.Samples.NM;

/// <summary>One measured mask: method, pattern, sparsity of the searched weights, test accuracy (%), search seconds, accepted flips.</summary>
internal sealed record NMRow(string Method, string Pattern, double Sparsity, double Accuracy, double Seconds, long Flips = 0);

/// <summary>The N:M magnitude mask, the N:M jackpot and the unstructured jackpot of one pre-trained model.</summary>
internal sealed class NMRuns(NMArgs a, nn.Module<Tensor, Tensor> model, IDataset train, IDataset test, CancellationToken cancellationToken)
{
    /// <summary>Where the N:M jackpot is exported (masked dense weights + masks, [out, in·kh·kw]).</summary>
    public string ExportPath => Path.Combine(a.Export, $"{a.Model}-{a.Pattern.N}of{a.Pattern.M}-jackpot.safetensors");

    /// <summary>Layers kept whole because M does not divide their row length (for example a 1-channel 3×3 stem: rows of 9).</summary>
    public IReadOnlyList<string> DenseLayers { get; private set; } = [];

    public List<NMRow> Run(double denseAccuracy)
    {
        var searchOptions = new MaskSearchOptions
        {
            Epochs = a.Epochs,
            Seed = a.Seed,
            BatchSize = a.BatchSize,
            LearningRate = a.LearningRate,
            BatchNorm = BatchNormPolicy.RecalibrateAfter, // the main job's default
            EvaluateEveryEpoch = false,
        };
        var parameters = new ParameterSelector(searchOptions.Parameters).Select(model);
        using var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
        var allocation = new NMAllocation(a.Pattern, keepIncompatibleLayersDense: true);
        using var nmMask = allocation.Allocate(scores, a.Pattern.Sparsity);
        DenseLayers = nmMask.Layers.Where(l => l.Kept == l.Total).Select(l => l.Name).ToList();
        if (DenseLayers.Count > 0)
        {
            Console.WriteLine($"kept whole (M = {a.Pattern.M} does not divide their rows): {string.Join(", ", DenseLayers)}");
        }

        var rows = new List<NMRow>();
        var watch = Stopwatch.StartNew();
        using (MaskedModel.Attach(model, nmMask, parameters))
        {
            rows.Add(new("magnitude", a.Pattern.ToString(), nmMask.Sparsity, Evaluate(), watch.Elapsed.TotalSeconds));
        }

        var buffers = Snapshot();
        try
        {
            using (var start = new InitialMask(scores.Clone(), nmMask.Clone()))
            using (var result = Search(searchOptions with { SemiStructured = a.Pattern }, start, $"{a.Pattern} jackpot"))
            {
                long broken = result.Masks.Entries.Where(e => !DenseLayers.Contains(e.Key)).Sum(e => a.Pattern.Violations(e.Value));
                if (broken != 0)
                {
                    throw new InvalidOperationException($"The {a.Pattern} jackpot breaks the pattern in {broken} groups.");
                }

                rows.Add(new("jackpot", a.Pattern.ToString(), result.Masks.Sparsity, result.FinalTestAccuracy!.Value, result.History.Sum(h => h.Seconds), result.History.Sum(h => h.FlipsAccepted)));
                SemiStructuredExport.Save(ExportPath, model, result.Masks, a.Pattern);
            }

            Restore(buffers);
            using var global = new GlobalAllocation().Allocate(scores, a.Pattern.Sparsity);
            using (var start = new InitialMask(scores.Clone(), global.Clone()))
            using (var result = Search(searchOptions, start, $"unstructured jackpot at {a.Pattern.Sparsity:0.##}"))
            {
                rows.Add(new("unstructured50", "unstructured", result.Masks.Sparsity, result.FinalTestAccuracy!.Value, result.History.Sum(h => h.Seconds), result.History.Sum(h => h.FlipsAccepted)));
            }

            Restore(buffers);
        }
        finally
        {
            foreach (var t in buffers.Values)
            {
                t.Dispose();
            }
        }

        Console.WriteLine($"dense {denseAccuracy:F2} %");
        return rows;
    }

    private SearchResult Search(MaskSearchOptions options, InitialMask start, string title) =>
        SampleConsole.WithProgress(title, a.Epochs, report =>
        {
            var progress = new Progress<SearchProgress>(p => report(p.Epoch - 1 + ((double)p.Step / Math.Max(1, p.StepsPerEpoch)), $"loss {p.TrainLoss:F3}"));
            return new MaskSearcher(options).Search(model, start, train, test, progress, cancellationToken);
        });

    private double Evaluate() => Evaluator.Evaluate(model, test, device: CPU, cancellationToken: cancellationToken).Accuracy;

    /// <summary>A copy of every state tensor (the search recalibrates BatchNorm statistics; weights stay bit-identical).</summary>
    private Dictionary<string, Tensor> Snapshot() =>
        model.state_dict().ToDictionary(e => e.Key, e => e.Value.detach().clone().DetachFromDisposeScope());

    private void Restore(Dictionary<string, Tensor> state)
    {
        using var noGrad = no_grad();
        foreach (var (key, value) in model.state_dict())
        {
            value.copy_(state[key]);
        }
    }
}
