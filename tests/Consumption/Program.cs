// Package consumption test (run by .ci/consume): a fresh console app outside the solution that references
// only the packed Sparsity packages (all six) and a libtorch backend, and prunes, searches and signs a small model.
using Sparsity;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.LotteryVerification;
using Sparsity.Models;
using Sparsity.Search;
using Sparsity.Training;
using static TorchSharp.torch;

using var data = EmbeddedFashionMnist.Load();                  // Sparsity.Data.FashionMnistSubset
manual_seed(0);
using var model = ReferenceModels.Create("lenet300", inputChannels: 1, classCount: 10);
new Trainer().Train(model, data.Train, data.Test, TrainingOptions.ReferenceRecipe with { Epochs = 1 });

var initializer = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), sparsity: 0.9);
using var result = new MaskSearcher(new MaskSearchOptions { Epochs = 1 }).Search(model, initializer, data.Train, data.Test);
result.Masks.Save("jackpot.safetensors");
using var reloaded = MaskSet.Load("jackpot.safetensors");

// Sparsity.LotteryVerification: sign the jackpot's topology, verify the signed mask, reject the unsigned one.
var scheme = new KeyedSignatureScheme(OwnerKey.Generate());
using var signed = scheme.Embed(reloaded, seed: 0);
var owner = new OwnershipVerifier().Verify(signed.Mask, signed.Credential);
var other = new OwnershipVerifier().Verify(reloaded, signed.Credential);

Console.WriteLine($"jackpot keeps {reloaded.KeptCount:N0} of {reloaded.TotalCount:N0} weights; test accuracy {result.FinalTestAccuracy:F2} %");
Console.WriteLine($"signed: {owner.Matches}/{owner.Bits} bits, verified {owner.Verified}; unsigned: {other.Matches}/{other.Bits}, verified {other.Verified}");
return reloaded.Equals(result.Masks) && Math.Abs(reloaded.Sparsity - 0.9) < 1e-3 && result.FinalTestAccuracy > 50
    && owner.Verified && !other.Verified && data.Source == FashionMnist.EmbeddedSource ? 0 : 1;
