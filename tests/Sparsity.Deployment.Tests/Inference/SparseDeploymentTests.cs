using Sparsity.Deployment.Inference;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Tests.Inference;

[Collection(nameof(KernelCollection))]
public sealed class SparseDeploymentTests
{
    [Theory]
    [InlineData(0.98, 1)]
    [InlineData(0.98, 128)]
    [InlineData(0.9, 1)]
    [InlineData(0.9, 32)]
    public void Converted_lenet_computes_the_masked_model(double sparsity, int batch)
    {
        using var model = TestModels.LeNet300(4);
        using var masks = TestModels.Magnitude(model, sparsity);
        model.eval();
        using var x = randn(batch, 1, 28, 28);
        using var reference = TestModels.LeNet300(4);
        TestModels.CopyState(model, reference);
        masks.ApplyTo(reference);
        reference.eval();
        using var expected = reference.call(x);

        using (var deployed = SparseDeployment.Convert(model, masks))
        {
            deployed.Layers.Select(l => l.Name).Should().Equal("fc1.weight", "fc2.weight");
            deployed.Layers.Should().OnlyContain(l => (l.Route == LayerRoute.Sparse) == (l.Density <= SparseCostModel.Default.RowGatherMaxDensity));
            deployed.SparseLayers.Should().HaveCount(deployed.Layers.Count(l => l.Route == LayerRoute.Sparse));
            deployed.Layers[0].Route.Should().Be(LayerRoute.Sparse, "fc1 keeps under 10 % of its weights in both cases");
            using var actual = model.call(x);
            allclose(actual, expected, rtol: 1e-5, atol: 1e-5).Should().BeTrue();
        }

        using var afterDispose = model.call(x);
        allclose(afterDispose, expected, rtol: 1e-5, atol: 1e-5).Should().BeTrue("disposing removes the hooks; the pruned weights stay zero");
    }

    [Fact]
    public void The_sparse_path_is_taken_and_the_dense_layer_sees_an_empty_batch()
    {
        using var layer = nn.Sequential(("fc", nn.Linear(20, 8)));
        using var masks = TestModels.Random(layer, 0.05, 1, "fc.weight");
        long seenBatch = -1;
        var probe = ((TorchSharp.Modules.Linear)layer[0]).register_forward_hook((m, input, output) => { seenBatch = input.shape[0]; return output; });
        using var deployed = SparseDeployment.Convert(layer, masks);
        using var y = layer.call(ones(1, 20));
        seenBatch.Should().Be(0);
        y.shape.Should().Equal(1, 8);
    }

    [Fact]
    public void Dense_layers_stay_dense_with_a_reason()
    {
        using var model = nn.Sequential(("conv", nn.Conv2d(1, 4, 3)), ("flat", nn.Flatten()), ("dense", nn.Linear(4 * 6 * 6, 10)), ("wide", nn.Linear(10, 10, dtype: ScalarType.Float64)));
        using var masks = new MaskSet([
            KeyValuePair.Create("conv.weight", rand(4, 1, 3, 3).lt(0.05)),
            KeyValuePair.Create("dense.weight", rand(10, 144).lt(0.9)),
            KeyValuePair.Create("wide.weight", rand(10, 10).lt(0.05)),
        ]);
        using var deployed = SparseDeployment.Convert(model, masks);
        deployed.Layers.Should().OnlyContain(l => l.Route == LayerRoute.Dense);
        deployed.Layers[0].Reason.Should().Contain("Conv2d");
        deployed.Layers[1].Reason.Should().Contain("break-even");
        deployed.Layers[2].Reason.Should().Contain("Float64");
        deployed.SparseLayers.Should().BeEmpty();
    }

    [Fact]
    public void Batches_above_the_batched_break_even_run_dense_and_give_the_same_result()
    {
        using var layer = nn.Sequential(("fc", nn.Linear(50, 30)));
        using var masks = TestModels.Random(layer, 0.2, 2, "fc.weight");
        var cost = new SparseCostModel { RowGatherMaxDensity = 0.5, BatchedMaxDensity = 0.1 };
        using var deployed = SparseDeployment.Convert(layer, masks, cost);
        long seenBatch = -1;
        var probe = ((TorchSharp.Modules.Linear)layer[0]).register_forward_hook((m, input, output) => { seenBatch = input.shape[0]; return output; });
        using var x = randn(16, 50);
        using var y = layer.call(x);
        seenBatch.Should().Be(16);
        using var single = layer.call(x[..1]);
        seenBatch.Should().Be(0);
        allclose(single, y[..1], rtol: 1e-5, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void An_input_that_needs_a_gradient_takes_the_dense_path()
    {
        using var layer = nn.Sequential(("fc", nn.Linear(20, 8)));
        using var masks = TestModels.Random(layer, 0.05, 1, "fc.weight");
        using var deployed = SparseDeployment.Convert(layer, masks);
        using var x = ones(1, 20).requires_grad_();
        using var y = layer.call(x);
        y.requires_grad.Should().BeTrue();
    }

    [Fact]
    public void Cost_model_options_are_validated()
    {
        var act = () => new SparseCostModel { BatchedMaxDensity = 1.5 };
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(nameof(SparseCostModel.BatchedMaxDensity));
    }
}
