#:project ../../src/Sparsity.Search/Sparsity.Search.csproj
#:project ../../src/Sparsity.Criteria/Sparsity.Criteria.csproj
#:project ../../src/Sparsity.Models/Sparsity.Models.csproj
#:package libtorch-cpu-linux-x64
#:property PublishAot=false
// Jackpot-search hyper-parameters chosen on a validation split, never on the test set: the search trains on the
// first 55,000 Fashion-MNIST training images and is scored on the last 5,000 (the dense model saw those in
// pre-training, so validation accuracies run high; only their order between configurations is used).
//
// dotnet run benchmarks/sweeps/jackpot-validation-sweep.cs -- MODEL DENSE.safetensors SPARSITY CONFIG...
//   CONFIG = comma-separated key=value among lr, wd, mom, batch, seed, scaled (1 = ScaledScoreInitializer),
//   restriction (0 = NoRestriction; default short with the official schedule), decaying (1 = short with the decaying
//   schedule), fraction (short with a constant fraction), allocation (layer budget of the magnitude mask: 0 = global,
//   the paper's and default; 1 = ERK; 2 = the same sparsity in every layer)
//   e.g. lenet300 .cache/pretrained/lenet300...safetensors 0.98 lr=0.1 lr=0.2 lr=0.2,seed=1
// Data: SPARSITY_DATA (default /usr/share/datasets/fashion-mnist). One libtorch thread.
using System.Globalization;
using Sparsity;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.Models;
using Sparsity.Search;
using Sparsity.Training;
using static TorchSharp.torch;

set_num_threads(1);
using var data = FashionMnist.Load(Environment.GetEnvironmentVariable("SPARSITY_DATA") ?? "/usr/share/datasets/fashion-mnist", device: CPU);
int fitCount = (int)data.Train.Count - 5000;
using var fit = new TensorDataset(data.Train.Inputs[..fitCount], data.Train.Labels[..fitCount], data.Train.ClassCount);
using var validation = new TensorDataset(data.Train.Inputs[fitCount..], data.Train.Labels[fitCount..], data.Train.ClassCount);
var model = ReferenceModels.Create(args[0], 1, 10);
StateDict.Load(model, args[1]);
Console.WriteLine($"dense: validation {Evaluator.Evaluate(model, validation).Accuracy:F2} %");
double sparsity = double.Parse(args[2], CultureInfo.InvariantCulture);
foreach (var config in args[3..])
{
    var values = config.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
    var options = new MaskSearchOptions
    {
        Seed = (long)values.GetValueOrDefault("seed", 0),
        LearningRate = values.GetValueOrDefault("lr", 0.1),
        WeightDecay = values.GetValueOrDefault("wd", 5e-4),
        Momentum = values.GetValueOrDefault("mom", 0.9),
        BatchSize = (int)values.GetValueOrDefault("batch", 256),
        ScoreInitializer = values.GetValueOrDefault("scaled", 0) > 0 ? ScaledScoreInitializer.Instance : OfficialScoreInitializer.Instance,
        Restriction = values.GetValueOrDefault("restriction", 1) == 0 ? NoRestriction.Instance
            : values.GetValueOrDefault("decaying", 0) > 0 ? new ShortRestriction(RestrictionSchedule.Decaying)
            : values.TryGetValue("fraction", out var fraction) ? new ShortRestriction(RestrictionSchedule.Constant(fraction))
            : new ShortRestriction(),
    };
    StateDict.Load(model, args[1]);
    ISparsityAllocation allocation = values.GetValueOrDefault("allocation", 0) switch
    {
        0 => new GlobalAllocation(),
        1 => new ErkAllocation(),
        _ => new LayerWiseAllocation(),
    };
    using var result = new MaskSearcher(options).Search(model, new CriterionMaskInitializer(new MagnitudeCriterion(), allocation, sparsity), fit, validation);
    Console.WriteLine($"{config}: validation per epoch {string.Join(" ", result.History.Select(e => e.TestAccuracy?.ToString("F2", CultureInfo.InvariantCulture)))}");
}
