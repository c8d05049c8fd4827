using Sparsity.Deployment.Inference;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Tests.Inference;

[Collection(nameof(KernelCollection))]
public sealed class SparseMlpTests
{
    [Theory]
    [InlineData(0.98, 1)]
    [InlineData(0.98, 2)]
    [InlineData(0.9, 1)]
    [InlineData(0.9, 5)]
    [InlineData(0.5, 1)]
    public void Compiled_lenet_computes_the_masked_model(double sparsity, int batch)
    {
        using var model = TestModels.LeNet300(5);
        model.eval();
        using var masks = TestModels.Magnitude(model, sparsity);
        using var reference = TestModels.LeNet300(5);
        TestModels.CopyState(model, reference);
        masks.ApplyTo(reference);
        reference.eval();
        using var x = randn(batch, 1, 28, 28);
        using var expected = reference.call(x);

        using var mlp = SparseDeployment.CompileMlp(model, masks, [1, 28, 28]);
        mlp.LayerNames.Should().Equal("fc1.weight", "fc2.weight", "fc3.weight");
        mlp.ReluAfter.Should().Equal(true, true, false);
        long Stored(string name, long all) => sparsity >= 0.9 ? masks.KeptIn(name) : all; // above 10 % density a layer is stored whole
        mlp.StoredWeights.Should().Be(Stored("fc1.weight", 784 * 300) + Stored("fc2.weight", 300 * 100) + 10 * 100, "fc3 is unmasked and keeps all its weights");
        using var actual = mlp.call(x);
        actual.shape.Should().Equal(batch, 10);
        allclose(actual, expected, rtol: 1e-5, atol: 1e-5).Should().BeTrue($"max |diff| {(actual - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void A_chain_without_activation_and_a_non_contiguous_input_are_computed_exactly()
    {
        using var model = nn.Sequential(("a", nn.Linear(12, 9)), ("b", nn.Linear(9, 4, hasBias: false)));
        using var masks = TestModels.Random(model, 0.3, 2, "a.weight");
        using var mlp = SparseDeployment.CompileMlp(model, masks, [12]);
        mlp.ReluAfter.Should().Equal(false, false);
        using var x = randn(12, 2).t(); // [2, 12], not contiguous
        using var expected = model.call(x); // the pruned weights are zero now
        using var actual = mlp.call(x);
        allclose(actual, expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
    }

    public static TheoryData<string, string> NotChains() => new()
    {
        { "conv", "is not the model's input flattened" },
        { "tanh", "The input of b is neither the output of a nor its ReLU" },
        { "softmax", "The model's output is not the output of its last Linear (b)" },
        { "twice", "a was called 2 times" },
        { "dropout", "dropout in training mode" },
    };

    [Theory]
    [MemberData(nameof(NotChains))]
    public void Models_that_are_not_chains_are_refused_naming_the_layer_and_left_unchanged(string kind, string message)
    {
        using var model = kind switch
        {
            "conv" => nn.Sequential(("conv", nn.Conv2d(1, 2, 3)), ("flat", nn.Flatten()), ("a", nn.Linear(2 * 4 * 4, 8)), ("b", nn.Linear(8, 3))),
            "tanh" => nn.Sequential(("flat", nn.Flatten()), ("a", nn.Linear(36, 8)), ("act", nn.Tanh()), ("b", nn.Linear(8, 3))),
            "softmax" => nn.Sequential(("flat", nn.Flatten()), ("a", nn.Linear(36, 8)), ("act", nn.ReLU()), ("b", nn.Linear(8, 3)), ("sm", nn.Softmax(1))),
            "twice" => (nn.Module<Tensor, Tensor>)new Twice(),
            _ => nn.Sequential(("flat", nn.Flatten()), ("a", nn.Linear(36, 8)), ("drop", nn.Dropout(0.5)), ("b", nn.Linear(8, 3))),
        };
        var mask = kind == "twice" ? "a.weight" : "b.weight";
        using var masks = TestModels.Random(model, 0.2, 3, mask);
        var before = model.state_dict()[mask].clone();

        var act = () => SparseDeployment.CompileMlp(model, masks, [1, 6, 6]);

        act.Should().Throw<ArgumentException>().WithParameterName("model").WithMessage($"*{message}*");
        model.state_dict()[mask].equal(before).all().item<bool>().Should().BeTrue("a refused model is not converted (its pruned weights are not zeroed)");
    }

    [Fact]
    public void Bad_example_shapes_are_refused_naming_the_argument()
    {
        using var model = TestModels.LeNet300(1);
        using var masks = TestModels.Magnitude(model, 0.9);
        foreach (var shape in new long[][] { [], [1, 0, 28] })
        {
            var act = () => SparseDeployment.CompileMlp(model, masks, shape);
            act.Should().Throw<ArgumentException>().WithParameterName("exampleShape");
        }
    }

    [Fact]
    public void Disposing_removes_the_hooks_of_the_converted_model()
    {
        using var model = nn.Sequential(("a", nn.Linear(20, 8)), ("b", nn.Linear(8, 2)));
        using var masks = TestModels.Random(model, 0.05, 1, "a.weight");
        long seenBatch = -1;
        var probe = ((TorchSharp.Modules.Linear)model[0]).register_forward_hook((m, input, output) => { seenBatch = input.shape[0]; return output; });
        var mlp = SparseDeployment.CompileMlp(model, masks, [20]);
        using (var big = mlp.call(ones(4, 20)))
        {
            seenBatch.Should().Be(0, "batches above the fused pass's limit run the converted model, whose sparse route hands the dense layer an empty batch");
        }

        mlp.Dispose();
        using var after = model.call(ones(4, 20));
        seenBatch.Should().Be(4);
        probe.remove();
    }

    private sealed class Twice : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear a = nn.Linear(36, 36);

        public Twice() : base(nameof(Twice)) => RegisterComponents();

        public override Tensor forward(Tensor input)
        {
            using var h = a.call(input.flatten(1));
            return a.call(h);
        }
    }
}
