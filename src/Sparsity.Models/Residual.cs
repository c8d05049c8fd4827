using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Models;

/// <summary>The residual sum of the ResNet blocks.</summary>
internal static class Residual
{
    /// <summary>
    /// <c>output += shortcut</c> in place. <c>Tensor.add_(Tensor)</c> converts its implicit alpha of 1 to a native
    /// <see cref="Scalar"/> that nobody disposes, so one per block and forward pass would wait for the finalizer;
    /// this one is disposed on return (same arithmetic).
    /// </summary>
    public static void AddInPlace(Tensor output, Tensor shortcut)
    {
        using var one = 1.ToScalar();
        output.add_(shortcut, one);
    }
}
