// Bring your own model:
//   dotnet run -c Release --project samples/Sparsity.Samples.BringYourOwnModel -- --weights model.safetensors --model lenet300
// Loads a PyTorch state dict saved as safetensors into a reference model (keys matched by their PyTorch names),
// evaluates it on Fashion-MNIST, prunes it by magnitude, searches a lottery jackpot from that mask (weights frozen)
// and saves both masks. Without --weights it first trains and saves a demo file so that it runs on a fresh machine.
using System.CommandLine;
using System.Globalization;
using Sparsity;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.Models;
using Sparsity.Samples;
using Sparsity.Search;
using Sparsity.Training;
using static TorchSharp.torch;

var weights = new Option<string?>("--weights") { Description = "PyTorch state dict saved with safetensors (default: train and save a demo file in --out)" };
var modelName = new Option<string>("--model") { Description = "Reference model whose state-dict keys the file uses", DefaultValueFactory = _ => "lenet300" };
modelName.AcceptOnlyFromAmong([.. ReferenceModels.Names]);
var sparsity = new Option<double>("--sparsity") { Description = "Fraction of the searched weights removed, in [0, 1)", DefaultValueFactory = _ => 0.9 };
sparsity.Validators.Add(r =>
{
    var s = r.GetValueOrDefault<double>();
    if (!(s >= 0 && s < 1)) r.AddError("--sparsity must lie in [0, 1), for example --sparsity 0.9.");
});
var epochs = new Option<int>("--epochs") { Description = "Jackpot search epochs", DefaultValueFactory = _ => 2 };
epochs.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int>() < 1) r.AddError("--epochs must be at least 1.");
});
var data = new Option<string?>("--data")
{
    Description = "Fashion-MNIST folder with the four IDX files, or 'auto' (SPARSITY_DATA, /usr/share/datasets/fashion-mnist, then the subset); default: the embedded 6,000/1,000 subset",
};
var output = new Option<string>("--out") { Description = "Output folder (masks, demo weights)", DefaultValueFactory = _ => Path.Combine("results", "byo") };
var seed = new Option<long>("--seed") { Description = "Seed of the demo training and the search", DefaultValueFactory = _ => 0 };
var torchVision = new Option<string?>("--torchvision")
{
    Description = "Use a model of the TorchVision package instead (resnet18 or mobilenet_v2; --weights then holds a torchvision state dict): criteria, jackpot search, overlap and a keyed signature",
};
torchVision.AcceptOnlyFromAmong(TorchVisionSection.Architectures);
var trainSubset = new Option<int?>("--train-subset") { Description = "Train and search on this many training images only (quick runs)" };
trainSubset.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int?>() is < 1) r.AddError("--train-subset must be at least 1.");
});

var command = new RootCommand(
    "Bring your own model: load a PyTorch state dict (safetensors) into a reference model, evaluate it on Fashion-MNIST, " +
    "prune it by magnitude and search a lottery jackpot from that mask; prints dense / magnitude / jackpot accuracy and saves the masks.")
{
    weights, modelName, sparsity, epochs, data, output, seed, torchVision, trainSubset,
};
command.SetAction((result, token) => Task.FromResult(Run(
    result.GetValue(weights), result.GetValue(modelName)!, result.GetValue(sparsity), result.GetValue(epochs),
    result.GetValue(data), result.GetValue(output)!, result.GetValue(seed), result.GetValue(torchVision), result.GetValue(trainSubset), token)));
return await command.Parse(args).InvokeAsync();

static int Run(string? weightsPath, string name, double sparsity, int epochs, string? dataFolder, string outFolder, long seed,
    string? torchVisionModel, int? trainSubset, CancellationToken cancellationToken)
{
    Directory.CreateDirectory(outFolder);
    using var data = dataFolder switch
    {
        null => EmbeddedFashionMnist.Load(),
        "auto" => EmbeddedFashionMnist.LoadFullOrEmbedded(),
        var folder => FashionMnist.Load(folder),
    };
    Console.WriteLine($"data: {data.Source} ({data.Train.Count:N0} train / {data.Test.Count:N0} test images)");
    if (torchVisionModel is not null)
    {
        return TorchVisionSection.Run(torchVisionModel, weightsPath, sparsity, epochs, data, trainSubset, outFolder, seed, cancellationToken);
    }

    using var trainSubsetData = trainSubset is { } count ? data.Train.Subset(Math.Min(count, data.Train.Count), seed) : null;
    var trainData = trainSubsetData ?? data.Train;

    if (weightsPath is null)
    {
        weightsPath = Path.Combine(outFolder, $"demo-{name}.safetensors");
        if (!File.Exists(weightsPath))
        {
            // Stand-in for the user's PyTorch model: one epoch of the reference recipe, saved under the PyTorch names.
            manual_seed(seed);
            using var demo = ReferenceModels.Create(name, inputChannels: 1, classCount: 10);
            using var subset = EmbeddedFashionMnist.Load();
            new Trainer().Train(demo, subset.Train, null, TrainingOptions.ReferenceRecipe with { Epochs = 1, Seed = seed }, cancellationToken: cancellationToken);
            StateDict.Save(demo, weightsPath, new Dictionary<string, string> { ["format"] = "pt", ["model"] = name });
            Console.WriteLine($"no --weights given: trained a demo {name} for 1 epoch and saved it to {weightsPath}");
        }
    }

    // 1. Load the state dict. strict: every key of the reference model must be in the file with the same shape.
    using var model = ReferenceModels.Create(name, inputChannels: 1, classCount: 10);
    if (!File.Exists(weightsPath))
    {
        Console.Error.WriteLine($"--weights: {weightsPath} does not exist.");
        return 1;
    }

    StateDictLoadResult loaded;
    try
    {
        loaded = StateDict.Load(model, weightsPath, strict: true);
    }
    catch (Exception e) when (e is ArgumentException or SparsityFormatException)
    {
        // The message lists every missing, unexpected and mis-shaped key: rename them on the PyTorch side (README).
        Console.Error.WriteLine($"Cannot load {weightsPath} into {name}: {e.Message}");
        Console.Error.WriteLine($"The file's keys must be the reference model's: {string.Join(", ", model.state_dict().Keys)}");
        return 1;
    }

    Console.WriteLine($"loaded {loaded.Loaded.Count} tensors from {weightsPath}: {string.Join(", ", loaded.Loaded.Take(8))}{(loaded.Loaded.Count > 8 ? ", ..." : "")}");
    var dense = Evaluator.Evaluate(model, data.Test, cancellationToken: cancellationToken).Accuracy;

    // 2. Magnitude mask under one global threshold (the classifier stays dense, as in the search's default selection),
    // evaluated before the search: the search updates BatchNorm running statistics (official policy), the file's don't change here.
    var searchOptions = new MaskSearchOptions { Epochs = epochs, Seed = seed };
    var parameters = new ParameterSelector(searchOptions.Parameters).Select(model);
    using var initial = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), sparsity)
        .Initialize(model, parameters, [], cancellationToken);
    double magnitude;
    using (MaskedModel.Attach(model, initial.Mask, parameters))
    {
        magnitude = Evaluator.Evaluate(model, data.Test, cancellationToken: cancellationToken).Accuracy;
    }

    // 3. The jackpot search from it: weights frozen, one score per weight trained, short restriction.
    using var search = SampleConsole.WithProgress($"jackpot search at sparsity {F(sparsity)}", epochs, report =>
        new MaskSearcher(searchOptions).Search(model, initial, trainData, data.Test,
            new Progress<SearchProgress>(p => report(
                p.Epoch - 1 + ((double)p.Step / Math.Max(1, p.StepsPerEpoch)),
                p.Completed is { } e ? $"epoch {e.Epoch}: {e.TestAccuracy:F2} %" : $"loss {p.TrainLoss:F3}")),
            cancellationToken));
    double jackpot;
    using (MaskedModel.Attach(model, search.Masks, parameters))
    {
        jackpot = Evaluator.Evaluate(model, data.Test, cancellationToken: cancellationToken).Accuracy;
    }

    var magnitudePath = Path.Combine(outFolder, $"magnitude-{F(sparsity)}.safetensors");
    var jackpotPath = Path.Combine(outFolder, $"jackpot-{F(sparsity)}.safetensors");
    search.InitialMasks.Save(magnitudePath);
    search.Masks.Save(jackpotPath);

    Console.WriteLine($"{name} from {weightsPath}: sparsity {F(sparsity)}, {search.Masks.KeptCount:N0} of {search.Masks.TotalCount:N0} searched weights kept");
    SampleConsole.Table("test accuracy",
        ["model", "test accuracy (%)"],
        [
            ["dense (loaded)", dense.ToString("F2", CultureInfo.InvariantCulture)],
            ["magnitude, no retraining", magnitude.ToString("F2", CultureInfo.InvariantCulture)],
            .. search.History.Select(e => (IReadOnlyList<string>)[$"jackpot, search epoch {e.Epoch}", (e.TestAccuracy ?? double.NaN).ToString("F2", CultureInfo.InvariantCulture)]),
            ["jackpot (final mask)", jackpot.ToString("F2", CultureInfo.InvariantCulture)],
        ]);
    Console.WriteLine($"masks: {magnitudePath}, {jackpotPath} (keys <param>_mask; PyTorch: safetensors.torch.load_file)");
    return 0;
}

static string F(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
