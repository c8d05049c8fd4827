using Sparsity.Deployment.Inference;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Tests.Inference;

[Collection(nameof(KernelCollection))]
public sealed class SparseLinearTests
{
    public static TheoryData<int, int, double, int, bool> Shapes() => new()
    {
        { 1, 1, 1.0, 1, true },
        { 7, 5, 0.0, 3, true },
        { 33, 17, 1.0, 1, false },
        { 33, 17, 0.3, 2, true },
        { 784, 300, 0.02, 1, true },
        { 784, 300, 0.1, 128, true },
        { 300, 100, 0.05, 13, false },
        { 100, 10, 0.5, 64, true },
        { 65, 9, 0.2, 130, true },
        { 9, 40, 0.7, 8, false },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Output_equals_the_masked_dense_layer(int inFeatures, int outFeatures, double density, int batch, bool withBias)
    {
        foreach (var portable in new[] { false, true })
        {
            CsrKernels.DisableIntrinsics = portable;
            try
            {
                using var scope = NewDisposeScope();
                manual_seed(inFeatures * 1000 + outFeatures + batch);
                var weight = randn(outFeatures, inFeatures);
                var mask = rand(outFeatures, inFeatures).lt(density);
                if (outFeatures > 2)
                {
                    mask[1] = zeros(inFeatures, ScalarType.Bool); // an empty row
                }

                var bias = withBias ? randn(outFeatures) : null;
                var x = randn(batch, inFeatures);
                var expected = nn.functional.linear(x, weight * mask, bias);
                using var sparse = SparseLinear.FromDense(weight, bias, mask);
                sparse.KeptCount.Should().Be(mask.count_nonzero().item<long>());
                var actual = sparse.call(x);
                actual.shape.Should().Equal(batch, outFeatures);
                allclose(actual, expected, rtol: 1e-5, atol: 1e-5).Should().BeTrue(
                    $"max |diff| {(actual - expected).abs().max().item<float>()} (portable {portable})");
            }
            finally
            {
                CsrKernels.DisableIntrinsics = false;
            }
        }
    }

    [Fact]
    public void Leading_dimensions_are_kept_and_a_null_mask_keeps_the_non_zero_weights()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var weight = randn(6, 10) * rand(6, 10).lt(0.4);
        var x = randn(2, 3, 10);
        using var sparse = SparseLinear.FromDense(weight);
        sparse.KeptCount.Should().Be(weight.count_nonzero().item<long>());
        var y = sparse.call(x);
        y.shape.Should().Equal(2, 3, 6);
        allclose(y, matmul(x, weight.t()), rtol: 1e-5, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Bad_input_is_rejected_naming_the_argument()
    {
        using var scope = NewDisposeScope();
        using var sparse = SparseLinear.FromDense(ones(3, 4), null, ones(3, 4, ScalarType.Bool));
        var act = () => sparse.call(ones(2, 5));
        act.Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*[..., 4]*");
        act = () => sparse.call(ones(2, 4, ScalarType.Float64));
        act.Should().Throw<ArgumentException>().WithParameterName("input");
        var build = () => SparseLinear.FromDense(ones(3, 4, ScalarType.Float64));
        build.Should().Throw<ArgumentException>().WithParameterName("weight");
        build = () => SparseLinear.FromDense(ones(3, 4), ones(4));
        build.Should().Throw<ArgumentException>().WithParameterName("bias");
        build = () => SparseLinear.FromDense(ones(3, 4), null, ones(4, 3, ScalarType.Bool));
        build.Should().Throw<ArgumentException>().WithParameterName("mask");
    }
}

/// <summary>Tests that flip <see cref="CsrKernels.DisableIntrinsics"/> run one at a time.</summary>
[CollectionDefinition(nameof(KernelCollection), DisableParallelization = true)]
public sealed class KernelCollection;
