using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests;

/// <summary>Proves the native backend loads on this machine (libstdc++ fix applied at build time).</summary>
[Collection(SequentialCollection.Name)]
public sealed class TorchSharpLoadsTests
{
    [Fact]
    public void TensorOperationAndBackwardPassWork()
    {
        using var x = tensor(new float[] { 1f, 2f, 3f }, requires_grad: true);
        using var y = (x * x).sum();
        y.backward();
        x.grad!.data<float>().ToArray().Should().Equal(2f, 4f, 6f);
    }

    [Fact]
    public void DoubleBackwardWorks()
    {
        // d/dx of (d/dx x^3) = 6x: needs create_graph and retain_graph (TorchSharp does not imply the latter).
        using var x = tensor(new double[] { 2.0 }, requires_grad: true);
        using var y = x.pow(3).sum();
        var g = autograd.grad([y], [x], create_graph: true, retain_graph: true)[0];
        var h = autograd.grad([g.sum()], [x])[0];
        g.item<double>().Should().BeApproximately(12.0, 1e-12);
        h.item<double>().Should().BeApproximately(12.0, 1e-12);
    }
}
