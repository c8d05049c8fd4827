#:project ../../src/Sparsity.Search/Sparsity.Search.csproj
#:project ../../src/Sparsity.Criteria/Sparsity.Criteria.csproj
#:project ../../src/Sparsity.Models/Sparsity.Models.csproj
#:project ../Sparsity.Samples.Common/Sparsity.Samples.Common.csproj
#:project ../../src/Sparsity.Data.FashionMnistSubset/Sparsity.Data.FashionMnistSubset.csproj
#:package libtorch-cpu-linux-x64
#:property PublishAot=false
using Sparsity;
using Sparsity.Analysis;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.Models;
using Sparsity.Samples;
using Sparsity.Search;
using Sparsity.Training;
using static TorchSharp.torch;

// %% [markdown]
// # Lottery jackpots: a sparse subnetwork of a trained model, without training its weights
//
// Zhang et al. ("Lottery Jackpots Exist in Pre-trained Models") keep a pre-trained model's weights frozen and
// train one score per weight instead; the mask keeps each layer's top-scored weights. Starting from the
// magnitude mask (scores 1.0 for kept weights, 0.99 for pruned ones, as the official code does), a few epochs
// of score training recover most of the accuracy that pruning lost — no weight changes.
//
// Run it: `dotnet run samples/notebooks/jackpot-search.cs` (`SPARSITY_SMOKE=1` for a tiny run).

// %%
var smoke = Environment.GetEnvironmentVariable("SPARSITY_SMOKE") == "1";
using var data = EmbeddedFashionMnist.Load();
var train = smoke ? data.Train.Subset(512) : data.Train;
manual_seed(0);
using var model = ReferenceModels.Create("lenet300", inputChannels: 1, classCount: 10);
var dense = new Trainer().Train(model, train, data.Test, TrainingOptions.ReferenceRecipe with { Epochs = smoke ? 1 : 5 }).Epochs[^1].TestAccuracy!.Value;
Console.WriteLine($"pre-trained dense model: {dense:F2} %");

// %% [markdown]
// ## The starting point: the magnitude mask at 95 % sparsity
//
// One global magnitude threshold over the hidden layers (the classifier stays dense) fixes how many weights
// each layer keeps; the search keeps these counts.

// %%
var parameters = new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = true }).Select(model);
using var initial = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), sparsity: 0.95).Initialize(model, parameters, []);
double magnitude;
using (MaskedModel.Attach(model, initial.Mask, parameters)) magnitude = Evaluator.Evaluate(model, data.Test).Accuracy;
Console.WriteLine($"{initial.Mask}\nmagnitude mask without retraining: {magnitude:F2} %");

// %% [markdown]
// ## The search
//
// SGD on the scores (lr 0.1, momentum 0.9, weight decay 5e-4, cosine), batch 256. After every step each layer's
// mask becomes the top-k of its scores under the *short restriction*: a layer swaps only balanced pairs.

// %%
var options = new MaskSearchOptions { Epochs = smoke ? 1 : 4, Seed = 0 };
using var result = new MaskSearcher(options).Search(model, initial, train, data.Test);
foreach (var e in result.History)
    Console.WriteLine($"epoch {e.Epoch}: {e.TestAccuracy:F2} %  flips {e.FlipsAccepted:N0}  overlap with the magnitude mask {e.OverlapWithInitial:P1}  {e.Seconds:F1} s");

// %% [markdown]
// ## How far did the jackpot move from the magnitude mask?
//
// Most kept weights stay; the overlap report says per layer how far above chance the two masks agree.

// %%
Console.WriteLine(OverlapReport.Create(initial.Mask, result.Masks, new StratifiedOverlapNull()).ToMarkdown());
var plot = Path.Combine("output", "jackpot-accuracy.png");
Plots.Lines(plot, "Jackpot search, LeNet-300-100 at 95 % sparsity", "search epoch", "test accuracy (%)",
[
    new PlotSeries("dense", [0, options.Epochs], [dense, dense]),
    new PlotSeries("jackpot", [0, .. result.History.Select(e => (double)e.Epoch)], [magnitude, .. result.History.Select(e => e.TestAccuracy ?? double.NaN)]),
]);
Console.WriteLine($"[image: {plot}]");
