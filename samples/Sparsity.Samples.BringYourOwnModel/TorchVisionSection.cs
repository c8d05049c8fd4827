using System.Globalization;
using Sparsity;
using Sparsity.Analysis;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.LotteryVerification;
using Sparsity.Samples;
using Sparsity.Search;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// <c>--torchvision resnet18|mobilenet_v2</c>: the same steps on a model of the TorchVision package (0.107.0, torchvision's
/// state-dict names, so a torchvision checkpoint converted to safetensors loads by name): criteria without retraining,
/// a jackpot search, the overlap of each mask with the jackpot, and a keyed ownership signature in the jackpot.
/// </summary>
internal static class TorchVisionSection
{
    public static readonly string[] Architectures = ["resnet18", "mobilenet_v2"];

    public static int Run(string architecture, string? weightsPath, double sparsity, int epochs, FashionMnistData data, int? trainSubset,
        string outFolder, long seed, CancellationToken cancellationToken)
    {
        // TorchVision's models take 3-channel images and have no input-channel option: repeat the grey channel
        // (Sparsity.Models' networks take inputChannels: 1 instead). 28×28 works: both models end in an adaptive pool.
        using var subset = trainSubset is { } n ? data.Train.Subset(Math.Min(n, data.Train.Count), seed) : null;
        using var train = ThreeChannels(subset ?? data.Train);
        using var test = ThreeChannels(data.Test);
        manual_seed(seed);
        using nn.Module<Tensor, Tensor> model = architecture == "resnet18"
            ? torchvision.models.resnet18(num_classes: 10)
            : torchvision.models.mobilenet_v2(num_classes: 10);

        if (weightsPath is null)
        {
            // Stand-in for the user's torchvision checkpoint: one epoch of the reference recipe, saved under torchvision's names.
            new Trainer().Train(model, train, null, TrainingOptions.ReferenceRecipe with { Epochs = 1, Seed = seed }, cancellationToken: cancellationToken);
            weightsPath = Path.Combine(outFolder, $"demo-{architecture}.safetensors");
            StateDict.Save(model, weightsPath, new Dictionary<string, string> { ["format"] = "pt", ["model"] = architecture });
            Console.WriteLine($"no --weights given: trained a demo torchvision {architecture} for 1 epoch on {train.Count:N0} images and saved it to {weightsPath}");
        }
        else
        {
            try
            {
                var loaded = StateDict.Load(model, weightsPath, strict: true);
                Console.WriteLine($"loaded {loaded.Loaded.Count} tensors from {weightsPath}");
            }
            catch (Exception e) when (e is ArgumentException or SparsityFormatException or FileNotFoundException)
            {
                Console.Error.WriteLine($"Cannot load {weightsPath} into torchvision {architecture}: {e.Message}");
                return 1;
            }
        }

        var dense = Evaluator.Evaluate(model, test, cancellationToken: cancellationToken).Accuracy;

        // Name the classifier: TorchVision's MobileNetV2 registers `classifier` before `features` (torchvision: after), so
        // KeepLastLayerDense would keep features.18.0 dense and prune the classifier; naming it works for both models.
        var selection = new ParameterSelectorOptions { Exclude = [architecture == "resnet18" ? "fc.weight" : "classifier.1.weight"] };
        var parameters = new ParameterSelector(selection).Select(model);

        // 1. Criteria, no retraining: magnitude (the search's start) and SNIP on 4 batches of 64.
        using var initial = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), sparsity)
            .Initialize(model, parameters, [], cancellationToken);
        using var snipScores = new SnipCriterion().Score(model, parameters, train.Batches(64, CPU).Take(4), cancellationToken: cancellationToken);
        using var snip = new GlobalAllocation().Allocate(snipScores, sparsity);
        var magnitudeAccuracy = MaskedAccuracy(model, initial.Mask, parameters, test, cancellationToken);
        var snipAccuracy = MaskedAccuracy(model, snip, parameters, test, cancellationToken);

        // 2. The jackpot search from the magnitude mask (weights frozen, scores trained, short restriction).
        var options = new MaskSearchOptions { Epochs = epochs, Seed = seed, Parameters = selection };
        using var search = new MaskSearcher(options).Search(model, initial, train, test, cancellationToken: cancellationToken);

        // 3. Overlap of each criterion's mask with the jackpot (layer-stratified null).
        var magnitudeOverlap = OverlapReport.Create(initial.Mask, search.Masks).Total;
        var snipOverlap = OverlapReport.Create(snip, search.Masks).Total;

        // 4. A keyed ownership signature in the jackpot's topology, verified; the unsigned jackpot is rejected.
        var scheme = new KeyedSignatureScheme(OwnerKey.Generate());
        using var signed = scheme.Embed(search.Masks, seed: (int)seed);
        var verifier = new OwnershipVerifier();
        var owner = verifier.Verify(signed.Mask, signed.Credential);
        var unsigned = verifier.Verify(search.Masks, signed.Credential);
        var signedAccuracy = MaskedAccuracy(model, signed.Mask, parameters, test, cancellationToken);

        var jackpotPath = Path.Combine(outFolder, $"{architecture}-jackpot-{F(sparsity)}.safetensors");
        var credentialPath = Path.Combine(outFolder, $"{architecture}-credential.json");
        search.Masks.Save(jackpotPath);
        signed.Credential.Save(credentialPath);

        Console.WriteLine($"torchvision {architecture}: sparsity {F(sparsity)}, {search.Masks.KeptCount:N0} of {search.Masks.TotalCount:N0} searched weights kept (classifier dense)");
        SampleConsole.Table($"torchvision {architecture}",
            ["mask", "test accuracy (%)", "overlap with jackpot (%)", "chance (%)", "log10 p"],
            [
                ["dense", P(dense), "", "", ""],
                ["magnitude, no retraining", P(magnitudeAccuracy), P(100 * magnitudeOverlap.Counts.OverlapRatio), Chance(magnitudeOverlap), Log(magnitudeOverlap)],
                ["SNIP, no retraining", P(snipAccuracy), P(100 * snipOverlap.Counts.OverlapRatio), Chance(snipOverlap), Log(snipOverlap)],
                [$"jackpot after {epochs} search epoch(s)", P(search.FinalTestAccuracy ?? double.NaN), "", "", ""],
                ["jackpot with keyed signature", P(signedAccuracy), "", "", ""],
            ]);
        Console.WriteLine($"signature: signed jackpot {owner.Matches}/{owner.Bits} bits, verified {owner.Verified}; unsigned jackpot {unsigned.Matches}/{unsigned.Bits}, verified {unsigned.Verified}");
        Console.WriteLine($"wrote {jackpotPath} (keys <torchvision name>_mask) and {credentialPath}");
        return owner.Verified && !unsigned.Verified ? 0 : 1;
    }

    private static double MaskedAccuracy(nn.Module<Tensor, Tensor> model, MaskSet mask, IReadOnlyList<PrunableParameter> parameters, IDataset test, CancellationToken cancellationToken)
    {
        using (MaskedModel.Attach(model, mask, parameters))
        {
            return Evaluator.Evaluate(model, test, cancellationToken: cancellationToken).Accuracy;
        }
    }

    private static TensorDataset ThreeChannels(TensorDataset grey)
    {
        using var scope = NewDisposeScope();
        return new TensorDataset(grey.Inputs.expand(-1, 3, -1, -1).contiguous(), grey.Labels.clone(), grey.ClassCount);
    }

    private static string F(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string P(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    // Chance under the layer-stratified null (Σ_l k₁_l·k₂_l/n_l over the jackpot's kept count): with a global allocation
    // the layers' densities differ, so it is not the pooled k₁/n.
    private static string Chance(OverlapReportRow row) => P(100 * row.Mean / row.Counts.KeptB);

    private static string Log(OverlapReportRow row) => (row.IsUpperBound ? "≤ " : "") + row.Log10P.ToString("F1", CultureInfo.InvariantCulture);
}
