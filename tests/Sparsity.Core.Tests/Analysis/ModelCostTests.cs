using FluentAssertions;
using Sparsity.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests.Analysis;

[Collection(SequentialCollection.Name)]
public sealed class ModelCostTests
{
    private static nn.Module<Tensor, Tensor> LeNet300() => nn.Sequential(
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(784, 300)), ("relu1", nn.ReLU()),
        ("fc2", nn.Linear(300, 100)), ("relu2", nn.ReLU()),
        ("fc3", nn.Linear(100, 10)));

    [Fact]
    public void LeNet300_counts_match_the_closed_form()
    {
        using var model = LeNet300();

        var cost = ModelCost.Measure(model, [1, 1, 28, 28]);

        cost.Parameters.Should().Be(266_610);                       // 784·300 + 300 + 300·100 + 100 + 100·10 + 10
        cost.KeptParameters.Should().Be(266_610);
        cost.MultiplyAccumulates.Should().Be(784 * 300 + 300 * 100 + 100 * 10);
        cost.Flops.Should().Be(2 * 266_200);
        cost.StateBytes.Should().Be(266_610 * 4);
        cost.Layers.Select(l => l.Name).Should().Equal("fc1", "fc2", "fc3");
        cost.Layers[0].OutputShape.Should().Equal(1, 300);
    }

    [Fact]
    public void Macs_scale_with_the_batch()
    {
        using var model = LeNet300();
        ModelCost.Measure(model, [8, 1, 28, 28]).MultiplyAccumulates.Should().Be(8 * 266_200);
    }

    [Fact]
    public void Convolution_macs_are_output_elements_times_fan_in()
    {
        using var model = nn.Sequential(
            ("conv", nn.Conv2d(3, 8, 3, padding: 1)),              // out [2, 8, 5, 5], fan-in 3·3·3 = 27
            ("grouped", nn.Conv2d(8, 4, 3, groups: 2)),             // out [2, 4, 3, 3], fan-in 4·3·3 = 36
            ("depthwise", nn.Conv2d(4, 4, 3, groups: 4)));          // out [2, 4, 1, 1], fan-in 9

        var cost = ModelCost.Measure(model, [2, 3, 5, 5]);

        cost.Layers.Select(l => l.MultiplyAccumulates).Should().Equal(2 * 8 * 25 * 27, 2 * 4 * 9 * 36, 2 * 4 * 1 * 9);
        cost.Layers.Select(l => l.Kind).Should().AllBeEquivalentTo(PrunableLayerKind.Conv2d);
        cost.Layers[1].OutputShape.Should().Equal(2, 4, 3, 3);
    }

    [Fact]
    public void A_mask_removes_the_macs_and_parameters_of_its_pruned_entries()
    {
        using var model = nn.Sequential(("conv", nn.Conv2d(1, 2, 2)), ("flat", nn.Flatten()), ("fc", nn.Linear(18, 3)));
        using var convMask = tensor(new[] { true, false, false, true, false, false, false, true }).reshape(2, 1, 2, 2); // 3 of 8
        using var fcMask = ones(3, 18, ScalarType.Bool);
        fcMask[0].fill_(false);                                                                                   // 36 of 54
        using var masks = new MaskSet([KeyValuePair.Create("conv.weight", convMask.clone()), KeyValuePair.Create("fc.weight", fcMask.clone())]);

        var cost = ModelCost.Measure(model, [2, 1, 4, 4], masks);

        // conv: output [2, 2, 3, 3] → 9 positions per sample and channel; each weight used 2·9 = 18 times.
        cost.Layers[0].MultiplyAccumulates.Should().Be(18 * 8);
        cost.Layers[0].KeptMultiplyAccumulates.Should().Be(18 * 3);
        cost.Layers[1].KeptMultiplyAccumulates.Should().Be(2 * 36);
        cost.Parameters.Should().Be(8 + 2 + 54 + 3);
        cost.KeptParameters.Should().Be(3 + 2 + 36 + 3);
        cost.KeptFlops.Should().Be(2 * (18 * 3 + 2 * 36));
    }

    [Fact]
    public void A_layer_that_runs_twice_is_counted_twice()
    {
        using var model = new Twice();
        var cost = ModelCost.Measure(model, [3, 4]);
        cost.Layers.Should().ContainSingle().Which.Calls.Should().Be(2);
        cost.MultiplyAccumulates.Should().Be(2 * 3 * 16);
        cost.UnobservedLayers.Should().BeEmpty();
    }

    [Fact]
    public void A_layer_invoked_with_forward_is_reported_as_unobserved()
    {
        using var model = new Twice(useCall: false);
        var cost = ModelCost.Measure(model, [3, 4]);
        cost.Layers.Should().BeEmpty();
        cost.UnobservedLayers.Should().Equal("fc");
    }

    [Fact]
    public void Measuring_leaves_the_model_unchanged()
    {
        using var model = nn.Sequential(("conv", nn.Conv2d(1, 2, 3)), ("bn", nn.BatchNorm2d(2)));
        model.train();
        var before = model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());

        ModelCost.Measure(model, [1, 1, 5, 5]);

        model.training.Should().BeTrue();
        foreach (var (name, value) in model.state_dict())
            TestModels.Same(value, before[name]).Should().BeTrue(name);
    }

    [Fact]
    public void Bad_input_is_rejected_naming_the_argument()
    {
        using var model = LeNet300();
        FluentActions.Invoking(() => ModelCost.Measure(model, []))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "inputShape");
        FluentActions.Invoking(() => ModelCost.Measure(model, [1, 0, 28, 28]))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "inputShape");

        using var foreign = new MaskSet([KeyValuePair.Create("conv.weight", ones(2, 2, ScalarType.Bool))]);
        FluentActions.Invoking(() => ModelCost.Measure(model, [1, 784], foreign))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "masks" && e.Message.Contains("conv.weight"));

        using var misshapen = new MaskSet([KeyValuePair.Create("fc3.weight", ones(10, 99, ScalarType.Bool))]);
        FluentActions.Invoking(() => ModelCost.Measure(model, [1, 784], misshapen))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "masks" && e.Message.Contains("fc3.weight"));
    }

    private sealed class Twice : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> fc = nn.Linear(4, 4);
        private readonly bool useCall;

        public Twice(bool useCall = true) : base(nameof(Twice))
        {
            this.useCall = useCall;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) =>
            useCall ? fc.call(fc.call(input)) : fc.forward(fc.forward(input));
    }
}
