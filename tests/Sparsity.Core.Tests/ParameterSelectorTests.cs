using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests;

public sealed class ParameterSelectorTests
{
    [Fact]
    public void SelectsConvAndLinearWeightsWithStateDictNames()
    {
        using var model = TestModels.ConvNet();
        var selected = new ParameterSelector().Select(model);
        selected.Select(p => p.Name).Should().Equal("conv.weight", "fc1.weight", "fc2.weight");
        selected.Select(p => p.Kind).Should().Equal(PrunableLayerKind.Conv2d, PrunableLayerKind.Linear, PrunableLayerKind.Linear);
        selected.Select(p => p.Count).Should().Equal(18L, 32L, 12L);
        var stateKeys = model.state_dict().Keys.ToHashSet();
        selected.Should().OnlyContain(p => stateKeys.Contains(p.Name));
    }

    [Fact]
    public void NestedModulesGetDottedNames()
    {
        using var model = nn.Sequential(("layer1", nn.Sequential(("0", nn.Linear(2, 2)), ("1", nn.Linear(2, 2)))));
        new ParameterSelector().Select(model).Select(p => p.Name).Should().Equal("layer1.0.weight", "layer1.1.weight");
    }

    [Fact]
    public void FirstAndLastLayerCanStayDense()
    {
        using var model = TestModels.ConvNet();
        var options = new ParameterSelectorOptions { KeepFirstLayerDense = true, KeepLastLayerDense = true };
        new ParameterSelector(options).Select(model).Select(p => p.Name).Should().Equal("fc1.weight");
    }

    [Fact]
    public void OrderIsPyTorchsDepthFirstOrderSoTheLastLayerIsTheTopLevelClassifier()
    {
        // VGG/ResNet shape: convolutions nested in a child, the classifier a later top-level child. TorchSharp's
        // named_modules lists every child before the grandchildren (features, classifier, features.0, features.2).
        using var model = nn.Sequential(
            ("features", nn.Sequential(("0", nn.Conv2d(1, 2, 3)), ("1", nn.ReLU()), ("2", nn.Conv2d(2, 2, 3)))),
            ("flat", nn.Flatten()),
            ("classifier", nn.Linear(8, 3)));
        model.named_modules().Select(m => m.name).Where(n => n is "classifier" or "features.0").Should().Equal("classifier", "features.0");
        new ParameterSelector().Select(model).Select(p => p.Name).Should().Equal("features.0.weight", "features.2.weight", "classifier.weight");
        new ParameterSelector(new() { KeepLastLayerDense = true }).Select(model).Select(p => p.Name).Should().Equal("features.0.weight", "features.2.weight");
        new ParameterSelector(new() { KeepFirstLayerDense = true }).Select(model).Select(p => p.Name).Should().Equal("features.2.weight", "classifier.weight");
    }

    [Fact]
    public void IncludeAndExcludePatternsFilterByName()
    {
        using var model = TestModels.ConvNet();
        new ParameterSelector(new() { Include = ["fc*"] }).Select(model).Select(p => p.Name)
            .Should().Equal("fc1.weight", "fc2.weight");
        new ParameterSelector(new() { Exclude = ["fc?.weight"] }).Select(model).Select(p => p.Name)
            .Should().Equal("conv.weight");
    }

    [Fact]
    public void ModelWithNothingPrunableIsRejected()
    {
        using var model = nn.Sequential(("relu", nn.ReLU()), ("bn", nn.BatchNorm1d(3)));
        var act = () => new ParameterSelector().Select(model);
        act.Should().Throw<ArgumentException>().WithParameterName("model").WithMessage("*no prunable weight*");
    }

    [Fact]
    public void EverythingExcludedIsRejected()
    {
        using var model = TestModels.ConvNet();
        var act = () => new ParameterSelector(new() { Exclude = ["*"] }).Select(model);
        act.Should().Throw<ArgumentException>().WithMessage("*3 Conv/Linear weight(s) found*");
    }

    [Fact]
    public void EmptyPatternIsRejected()
    {
        var act = () => new ParameterSelector(new() { Include = [" "] });
        act.Should().Throw<ArgumentException>().WithParameterName("Include");
    }

    [Fact]
    public void WeightLookupSurvivesModuleTo()
    {
        using var model = TestModels.ConvNet();
        var p = new ParameterSelector().Select(model)[1];
        var before = p.Weight;
        model.to(ScalarType.Float64);
        p.Weight.Should().NotBeSameAs(before);
        p.Weight.dtype.Should().Be(ScalarType.Float64);
    }
}
