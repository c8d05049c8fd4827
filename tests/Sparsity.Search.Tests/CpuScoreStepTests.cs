using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

/// <summary>
/// The fused CPU score step against the libtorch operations it replaces (d = g ⊙ w, d += wd·s, b = μ·b + d,
/// s += −lr·b), over three steps so that the momentum buffer carries: bit-identical where libtorch vectorises
/// (lengths that are multiples of 8), within one rounding on the scalar tail; no momentum, no weight decay.
/// </summary>
public sealed class CpuScoreStepTests
{
    [Theory]
    [InlineData(4096, 0.9, 5e-4)]
    [InlineData(1003, 0.9, 5e-4)]
    [InlineData(4096, 0.0, 5e-4)]
    [InlineData(4096, 0.9, 0.0)]
    public void FusedStepEqualsTheTensorOperations(int n, double momentum, double weightDecay)
    {
        var generator = new Generator(7);
        using var weight = randn(n, generator: generator);
        using var fused = randn(n, generator: generator);
        using var reference = fused.clone();
        Tensor? fusedBuffer = null, referenceBuffer = null;
        const double lr = 0.1;
        try
        {
            for (int step = 0; step < 3; step++)
            {
                using var gradient = randn(n, generator: generator);
                CpuScoreStep.Applies(fused, gradient, weight, fusedBuffer).Should().BeTrue();
                bool first = momentum != 0 && fusedBuffer is null;
                if (first)
                {
                    fusedBuffer = empty_like(fused);
                }

                CpuScoreStep.Step(fused, gradient, weight, momentum != 0 ? fusedBuffer : null, first, (float)weightDecay, (float)momentum, (float)-lr);

                var d = gradient.mul(weight);
                if (weightDecay != 0)
                {
                    d.add_(reference, weightDecay);
                }

                if (momentum != 0)
                {
                    if (referenceBuffer is null)
                    {
                        referenceBuffer = d.clone();
                    }
                    else
                    {
                        referenceBuffer.mul_(momentum).add_(d);
                    }

                    d = referenceBuffer;
                }

                reference.add_(d, -lr);
                var difference = fused.sub(reference).abs().max().item<float>();
                if (n % 8 == 0)
                {
                    difference.Should().Be(0f, $"step {step}");
                }
                else
                {
                    difference.Should().BeLessThan(1e-6f, $"step {step}");
                }
            }
        }
        finally
        {
            fusedBuffer?.Dispose();
            referenceBuffer?.Dispose();
        }
    }

    [Fact]
    public void TensorsThatAreNotContiguousFloat32OnTheCpuAreLeftToTheTensorPath()
    {
        using var scores = zeros(16);
        using var gradient = zeros(16);
        using var weight = zeros(16);
        using var strided = zeros(32).slice(0, 0, 32, 2);
        using var float64 = zeros(16, ScalarType.Float64);
        using var shorter = zeros(8);
        CpuScoreStep.Applies(scores, gradient, weight, null).Should().BeTrue();
        CpuScoreStep.Applies(scores, strided, weight, null).Should().BeFalse();
        CpuScoreStep.Applies(scores, gradient, float64, null).Should().BeFalse();
        CpuScoreStep.Applies(scores, gradient, weight, shorter).Should().BeFalse();
    }
}
