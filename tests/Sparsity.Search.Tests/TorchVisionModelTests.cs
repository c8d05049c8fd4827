using Sparsity.Analysis;
using Sparsity.Criteria;
using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

/// <summary>
/// The library on the models of the TorchVision package (0.107.0, torchvision's module names): criteria, the jackpot
/// search and mask overlap on <c>resnet18</c> and <c>mobilenet_v2</c>, at 3×32×32 on a few synthetic batches.
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class TorchVisionModelTests
{
    public static TheoryData<string> Names => new() { "resnet18", "mobilenet_v2" };

    internal static nn.Module<Tensor, Tensor> Create(string name, long seed)
    {
        random.manual_seed(seed);
        return name switch
        {
            "resnet18" => torchvision.models.resnet18(num_classes: 10),
            "mobilenet_v2" => torchvision.models.mobilenet_v2(num_classes: 10),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "resnet18 or mobilenet_v2"),
        };
    }

    /// <summary>Every Conv/Linear weight except the classifier, named (MobileNetV2 needs it: see the registration-order test).</summary>
    internal static ParameterSelectorOptions ClassifierDense(string name) =>
        new() { Exclude = [name == "resnet18" ? "fc.weight" : "classifier.1.weight"] };

    /// <summary>Random 3×32×32 images with the labels of a fixed random linear teacher (10 classes).</summary>
    private static TensorDataset Images(long count, long seed) => Fixtures.Teacher(count, seed, [3, 32, 32], classes: 10);

    [Fact]
    public void KeepLastLayerDenseFindsResNet18sClassifierButNotMobileNetV2sWhichTorchVisionRegistersFirst()
    {
        // Selection follows PyTorch's depth-first registration order (named_parameters). TorchVision's ResNet
        // registers fc last, as torchvision does; its MobileNetV2 registers `classifier` before `features`
        // (torchvision: after), so there "the last layer" is features.18.0 and the classifier must be named.
        using var resnet = Create("resnet18", 0);
        var all = new ParameterSelector().Select(resnet).Select(p => p.Name).ToList();
        all.Should().HaveCount(21);
        all[0].Should().Be("conv1.weight");
        all[^1].Should().Be("fc.weight");
        new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = true }).Select(resnet).Select(p => p.Name)
            .Should().Equal(new ParameterSelector(ClassifierDense("resnet18")).Select(resnet).Select(p => p.Name))
            .And.HaveCount(20).And.Contain("layer4.1.conv2.weight").And.Contain("layer2.0.downsample.0.weight");

        using var mobile = Create("mobilenet_v2", 0);
        all = new ParameterSelector().Select(mobile).Select(p => p.Name).ToList();
        all.Should().HaveCount(53);
        all[0].Should().Be("classifier.1.weight");
        all[^1].Should().Be("features.18.0.weight");
        new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = true }).Select(mobile).Select(p => p.Name)
            .Should().Contain("classifier.1.weight").And.NotContain("features.18.0.weight");
        new ParameterSelector(ClassifierDense("mobilenet_v2")).Select(mobile).Select(p => p.Name)
            .Should().HaveCount(52).And.NotContain("classifier.1.weight").And.Contain("features.18.0.weight").And.Contain("features.1.conv.0.0.weight");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryCriterionScoresTheTorchVisionWeightsByNameAndLeavesTheModelUnchanged(string name)
    {
        using var model = Create(name, 1);
        using var data = Images(32, seed: 3);
        var parameters = new ParameterSelector(ClassifierDense(name)).Select(model);
        var before = Fixtures.State(model);
        IPruningCriterion[] criteria =
        [
            new MagnitudeCriterion(), new RandomCriterion(7), new SnipCriterion(), new GraspCriterion(),
            new SynFlowCriterion(new SynFlowOptions { Schedule = new IterativePruningSchedule { Rounds = 2 } }),
        ];
        foreach (var criterion in criteria)
        {
            using var scores = criterion.Score(model, parameters, data.Batches(16, CPU), new ScoringOptions { TargetSparsity = 0.9 });
            scores.Names.Should().Equal(parameters.Select(p => p.Name), criterion.Name);
            foreach (var p in parameters)
            {
                scores[p.Name].shape.Should().Equal(p.Weight.shape, p.Name);
                scores[p.Name].isfinite().all().item<bool>().Should().BeTrue($"{criterion.Name} scores of {p.Name} are finite");
                if (criterion is MagnitudeCriterion)
                {
                    using var abs = p.Weight.detach().abs();
                    Fixtures.Same(scores[p.Name], abs).Should().BeTrue("magnitude is |W|");
                }
            }

            using var mask = new GlobalAllocation().Allocate(scores, 0.9);
            mask.Sparsity.Should().BeApproximately(0.9, 1e-4, criterion.Name);
            mask.Names.Should().OnlyContain(n => mask.KeptIn(n) >= 1, "no layer is emptied");
        }

        var after = Fixtures.State(model);
        after.Keys.Should().BeEquivalentTo(before.Keys);
        after.Should().OnlyContain(e => Fixtures.Same(e.Value, before[e.Key]), "scoring leaves weights and buffers bit-identical");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void AJackpotSearchKeepsTheLayerCountsAndTheWeightsAndItsMasksCarryTorchVisionNames(string name)
    {
        using var model = Create(name, 2);
        using var train = Images(64, seed: 4);
        using var test = Images(32, seed: 5);
        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var options = new MaskSearchOptions { Epochs = 1, BatchSize = 16, EvaluationBatchSize = 32, Parameters = ClassifierDense(name) };
        var magnitude = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), sparsity: 0.9);
        using var result = new MaskSearcher(options).Search(model, magnitude, train, test);

        result.Masks.Names.Should().Equal(new ParameterSelector(ClassifierDense(name)).Select(model).Select(p => p.Name));
        result.History.Should().HaveCount(1);
        foreach (var layer in result.Masks.Names)
        {
            result.Masks.KeptIn(layer).Should().Be(result.InitialMasks.KeptIn(layer), $"the search swaps pairs in {layer}");
        }

        foreach (var (key, parameter) in model.named_parameters())
        {
            Fixtures.Same(parameter, weights[key]).Should().BeTrue($"{key} is frozen");
        }

        // The mask file uses torch.nn.utils.prune's names for the TorchVision keys.
        var file = Path.Combine(Path.GetTempPath(), $"sparsity-tv-{name}-{Environment.ProcessId}.safetensors");
        try
        {
            result.Masks.Save(file);
            using var reloaded = MaskSet.Load(file);
            reloaded.Equals(result.Masks).Should().BeTrue();
            using var reader = Sparsity.IO.SafeTensorsReader.Open(file);
            reader.Contains(name == "resnet18" ? "layer1.0.conv1.weight_mask" : "features.1.conv.0.0.weight_mask").Should().BeTrue();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void OverlapOfACriterionMaskWithTheMagnitudeMaskIsMeasuredPerTorchVisionLayer(string name)
    {
        using var model = Create(name, 3);
        using var data = Images(32, seed: 6);
        var parameters = new ParameterSelector(ClassifierDense(name)).Select(model);
        using var magnitudeScores = new MagnitudeCriterion().Score(model, parameters, []);
        using var snipScores = new SnipCriterion().Score(model, parameters, data.Batches(16, CPU));
        using var randomScores = new RandomCriterion(11).Score(model, parameters, []);
        using var magnitude = new LayerWiseAllocation().Allocate(magnitudeScores, 0.9);
        using var snip = new LayerWiseAllocation().Allocate(snipScores, 0.9);
        using var random = new LayerWiseAllocation().Allocate(randomScores, 0.9);

        var withSelf = OverlapReport.Create(magnitude, magnitude);
        withSelf.Layers.Select(r => r.Counts.Name).Should().Equal(parameters.Select(p => p.Name));
        withSelf.Total.Counts.OverlapRatio.Should().Be(1.0);

        // SNIP's |W ⊙ ∂L/∂W| shares the factor |W| with magnitude: clearly above chance (at initialisation, where
        // the gradient factor varies a lot, by a few points only). A random mask is at chance.
        var withSnip = OverlapReport.Create(snip, magnitude);
        withSnip.Total.Counts.ChanceRatio.Should().BeApproximately(0.1, 1e-3);
        withSnip.Total.Counts.OverlapRatio.Should().BeGreaterThan(0.12);
        withSnip.Total.Log10P.Should().BeLessThan(-100);
        var withRandom = OverlapReport.Create(random, magnitude);
        withRandom.Total.Counts.OverlapRatio.Should().BeApproximately(0.1, 0.02);
        withRandom.Total.ZScore.Should().BeInRange(-5, 5);
    }
}
