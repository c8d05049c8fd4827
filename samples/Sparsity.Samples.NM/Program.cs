// N:M semi-structured sparsity on Fashion-MNIST: a pre-trained model (reference recipe, cached), its N:M magnitude
// mask without retraining, the N:M jackpot (mask search keeping N of every M weights after every step) and the
// unstructured jackpot at the same sparsity (1 − N/M), against dense. Exports the N:M jackpot in the layout PyTorch's
// to_sparse_semi_structured takes and merges the accuracies into a results file (one model per run).
//
//   dotnet run -c Release --project samples/Sparsity.Samples.NM -- --model lenet300 \
//       --data /usr/share/datasets/fashion-mnist --threads 1 --results benchmarks/results/sparse-deployment-nm.json
//   dotnet run -c Release --project samples/Sparsity.Samples.NM -- --model resnet20 --threads 1 \
//       --results benchmarks/results/sparse-deployment-nm.json
//   dotnet run -c Release --project samples/Sparsity.Samples.NM -- --smoke      (under a minute; CI)
using System.Globalization;
using System.Text.Json.Nodes;
using Sparsity;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.Models;
using Sparsity.Samples;
using Sparsity.Samples.NM;
using Sparsity.Search;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

var a = NMArgs.Parse(args);
if (a is null)
{
    Console.Error.WriteLine(NMArgs.Usage);
    return 2;
}

set_num_threads(a.Threads);
using var cancel = SampleConsole.CancelOnCtrlC();
using var data = a.Data is null ? EmbeddedFashionMnist.Load(CPU) : FashionMnist.Load(a.Data, CPU);
IDataset train = a.TrainSubset is { } n ? data.Train.Subset(n, a.Seed) : data.Train;
IDataset test = a.TestSubset is { } t ? data.Test.Subset(t, a.Seed) : data.Test;
string source = data.Source + (a.TrainSubset is { } s1 ? $"-train{s1}" : "") + (a.TestSubset is { } s2 ? $"-test{s2}" : "");
Console.WriteLine($"data: {source} ({train.Count:N0} train / {test.Count:N0} test) from {data.Location}; model {a.Model}; pattern {a.Pattern}");

try
{
    var recipe = TrainingOptions.ReferenceRecipe with { Epochs = a.DenseEpochs, Seed = a.Seed, Device = CPU };
    var pretrained = SampleConsole.WithProgress($"pre-training {a.Model}", a.DenseEpochs, report =>
        Pretrained.GetOrTrain(() => ReferenceModels.Create(a.Model, 1, FashionMnist.ClassCount), a.Model, train, test, source, a.Cache, recipe,
            progress: new Progress<TrainingProgress>(p => report(p.Epoch - 1 + ((double)p.Batch / p.BatchCount), $"loss {p.RunningLoss:F3}")),
            cancellationToken: cancel.Token));
    using var model = pretrained.Model;
    Console.WriteLine($"dense: {pretrained.TestAccuracy:F2} % ({(pretrained.FromCache ? "from cache" : "trained")})");

    var runs = new NMRuns(a, model, train, test, cancel.Token);
    var rows = runs.Run(pretrained.TestAccuracy);
    SampleConsole.Table($"{a.Model}, {a.Pattern} vs unstructured at sparsity {a.Pattern.Sparsity:0.##} (test accuracy, %)",
        ["method", "pattern", "searched sparsity", "accuracy %"],
        rows.Select(r => (IReadOnlyList<string>)[r.Method, r.Pattern, r.Sparsity.ToString("0.0000", CultureInfo.InvariantCulture), r.Accuracy.ToString("F2", CultureInfo.InvariantCulture)]));

    NMResults.Merge(a, source, pretrained, rows, runs.DenseLayers);
    Console.WriteLine($"results: {a.Results}; {a.Pattern} export: {runs.ExportPath}");
    return 0;
}
catch (OperationCanceledException)
{
    Console.WriteLine("Cancelled.");
    return 130;
}
