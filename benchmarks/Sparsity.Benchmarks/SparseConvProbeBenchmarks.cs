using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Sparsity.Deployment.Inference;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// Would a sparse Conv2d pay? One 3×3 convolution (stride 1, padding 1) of ResNet-20's shapes at batch 1, 1 thread:
/// libtorch's dense conv2d with the masked weight (baseline) against im2col (libtorch <c>unfold</c>, which yields Xᵀ
/// [in·9, H·W] directly) followed by the managed CSR kernel on the transposed layout (the output [out, H·W] is
/// already the convolution's layout), and <c>unfold</c> alone (the floor of any im2col route).
/// </summary>
public class SparseConvProbeBenchmarks
{
    private TorchSharp.Modules.Conv2d _conv = null!;
    private CsrWeights _weights = null!;
    private Tensor _input = null!;
    private int _side;

    /// <summary>Channels in = out, and the feature-map side: "16@32" (layer1) or "64@8" (layer3).</summary>
    [Params("16@32", "64@8")]
    public string Layer { get; set; } = "16@32";

    /// <summary>Kept fraction of the weights.</summary>
    [Params(0.05, 0.1, 0.3)]
    public double Density { get; set; }

    /// <summary>Builds the layer, its mask and the input.</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        var parts = Layer.Split('@').Select(int.Parse).ToArray();
        int channels = parts[0];
        _side = parts[1];
        manual_seed(0);
        _conv = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
        using var mask = rand(new long[] { channels, channels, 3, 3 }, generator: new Generator(2)).lt(Density);
        using (no_grad())
        {
            _conv.weight!.mul_(mask);
        }

        var flat = MemoryMarshal.Cast<byte, float>(_conv.weight!.bytes).ToArray();
        _weights = CsrWeights.FromDense(channels, channels * 9, flat, mask.to(ScalarType.Byte).bytes.ToArray(), null);
        _input = randn(new long[] { 1, channels, _side, _side }, generator: new Generator(1)).DetachFromDisposeScope();
    }

    /// <summary>Releases native memory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _conv.Dispose();
        _input.Dispose();
    }

    /// <summary>libtorch dense conv2d.</summary>
    [Benchmark(Baseline = true)]
    public float Dense()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return _conv.call(_input)[0, 0, 0, 0].item<float>();
    }

    /// <summary>unfold + managed CSR kernel on Xᵀ.</summary>
    [Benchmark]
    public unsafe float Im2colSparse()
    {
        using var scope = NewDisposeScope();
        var cols = nn.functional.unfold(_input, 3, padding: 1).contiguous();
        var output = empty(1, _weights.Rows, _side, _side);
        fixed (byte* x = cols.bytes)
        fixed (byte* y = output.bytes)
        {
            CsrKernels.TransposedBatch(_weights, (float*)x, (float*)y, _side * _side);
        }

        return output[0, 0, 0, 0].item<float>();
    }

    /// <summary>unfold alone.</summary>
    [Benchmark]
    public float UnfoldOnly()
    {
        using var scope = NewDisposeScope();
        return nn.functional.unfold(_input, 3, padding: 1)[0, 0, 0].item<float>();
    }
}
