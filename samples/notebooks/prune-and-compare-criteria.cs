#:project ../../src/Sparsity.Criteria/Sparsity.Criteria.csproj
#:project ../../src/Sparsity.Models/Sparsity.Models.csproj
#:project ../Sparsity.Samples.Common/Sparsity.Samples.Common.csproj
#:project ../../src/Sparsity.Data.FashionMnistSubset/Sparsity.Data.FashionMnistSubset.csproj
#:package libtorch-cpu-linux-x64
#:property PublishAot=false
using Sparsity;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.Models;
using Sparsity.Samples;
using Sparsity.Training;
using static TorchSharp.torch;

// %% [markdown]
// # Prune a trained network with five criteria and compare them
//
// A pruning criterion gives every prunable weight a score (higher = keep); an allocation turns the scores
// into a mask with an exact number of kept weights. This walkthrough trains LeNet-300-100 on the embedded
// Fashion-MNIST subset, scores it with **magnitude**, **SNIP**, **GraSP**, **SynFlow** and **random**, keeps
// the top weights under one global threshold, and measures test accuracy *without retraining*.
//
// Run it: `dotnet run samples/notebooks/prune-and-compare-criteria.cs` (`SPARSITY_SMOKE=1` for a tiny run).

// %%
var smoke = Environment.GetEnvironmentVariable("SPARSITY_SMOKE") == "1";
using var data = EmbeddedFashionMnist.Load();
var train = smoke ? data.Train.Subset(512) : data.Train;
manual_seed(0);
using var model = ReferenceModels.Create("lenet300", inputChannels: 1, classCount: 10);
var training = new Trainer().Train(model, train, data.Test, TrainingOptions.ReferenceRecipe with { Epochs = smoke ? 1 : 5 });
Console.WriteLine($"dense LeNet-300-100: {training.Epochs[^1].TestAccuracy:F2} % test accuracy after {training.Epochs.Count} epochs");

// %% [markdown]
// ## Which weights are prunable
//
// The `ParameterSelector` picks the weights of Conv/Linear layers, named like PyTorch state-dict keys. As
// in the Lottery Jackpots code, the classifier stays dense. Sparsity is the fraction of these weights removed.

// %%
var parameters = new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = true }).Select(model);
foreach (var p in parameters) Console.WriteLine(p);

// %% [markdown]
// ## Score, allocate, evaluate
//
// SNIP and GraSP need data (four batches of 128 here); magnitude, SynFlow and random do not. SynFlow prunes
// iteratively towards the target sparsity, so it is told the target through `ScoringOptions`.

// %%
var batches = train.Batches(128, CPU, shuffleSeed: 0).Take(4).Select(b => new Batch(b.Inputs.clone(), b.Labels.clone())).ToList();
IPruningCriterion[] criteria = [new MagnitudeCriterion(), new SnipCriterion(), new GraspCriterion(), new SynFlowCriterion(), new RandomCriterion(seed: 0)];
double[] sparsities = smoke ? [0.9] : [0.5, 0.8, 0.9, 0.95, 0.98];
var allocation = new GlobalAllocation();
var accuracy = new Dictionary<(string, double), double>();
foreach (var sparsity in sparsities)
foreach (var criterion in criteria)
{
    using var scores = criterion.Score(model, parameters, batches, new ScoringOptions { TargetSparsity = sparsity, Allocation = allocation });
    using var mask = allocation.Allocate(scores, sparsity);
    using (MaskedModel.Attach(model, mask, parameters))
        accuracy[(criterion.Name, sparsity)] = Evaluator.Evaluate(model, data.Test).Accuracy;
    if (sparsity == 0.9)
        Console.WriteLine($"{criterion.Name,-9} at 90 %: {accuracy[(criterion.Name, sparsity)]:F2} %  layers: " +
            string.Join(", ", mask.Layers.Select(l => $"{l.Name} {100.0 * l.Kept / l.Total:F1} % kept")));
}

// %% [markdown]
// Global allocation lets layers keep different densities: magnitude keeps more of the small `fc2` than of
// the large `fc1`. The random criterion is the sanity baseline every paper reports: at high sparsity a
// criterion that does not beat it has learned nothing.

// %%
SampleConsole.Table("test accuracy (%) without retraining", ["criterion", .. sparsities.Select(s => $"{s:P0}")],
    criteria.Select(c => (IReadOnlyList<string>)[c.Name, .. sparsities.Select(s => accuracy[(c.Name, s)].ToString("F2"))]));
var plot = Path.Combine("output", "criteria-accuracy.png");
Plots.Lines(plot, "LeNet-300-100, accuracy without retraining", "sparsity", "test accuracy (%)",
    criteria.Select(c => new PlotSeries(c.Name, sparsities, sparsities.Select(s => accuracy[(c.Name, s)]).ToList())));
Console.WriteLine($"[image: {plot}]");
foreach (var b in batches) b.Dispose();
