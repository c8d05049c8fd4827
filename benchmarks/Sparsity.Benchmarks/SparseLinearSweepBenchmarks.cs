using BenchmarkDotNet.Attributes;
using Sparsity.Deployment.Inference;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// Where sparse stops paying, per layer shape: one Linear layer (random weights, random mask of the given density,
/// 1 thread) computed densely by libtorch (baseline, masked weight) and by <see cref="SparseLinear"/>. The density
/// at which the ratio crosses 1 is the break-even that <see cref="SparseCostModel"/> uses.
/// </summary>
public class SparseLinearSweepBenchmarks
{
    private TorchSharp.Modules.Linear _dense = null!;
    private SparseLinear _sparse = null!;
    private Tensor _input = null!;

    /// <summary>Layer shape "in x out".</summary>
    [Params("784x300", "300x100", "1024x1024")]
    public string Shape { get; set; } = "784x300";

    /// <summary>Kept fraction of the weights.</summary>
    [Params(0.02, 0.05, 0.1, 0.2, 0.3, 0.5)]
    public double Density { get; set; }

    /// <summary>Examples per call.</summary>
    [Params(1, 128)]
    public int Batch { get; set; }

    /// <summary>Builds the layer, its mask and the input.</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        var parts = Shape.Split('x').Select(long.Parse).ToArray();
        manual_seed(0);
        _dense = nn.Linear(parts[0], parts[1]);
        using var mask = rand(parts[1], parts[0], generator: new Generator(2)).lt(Density);
        using (no_grad())
        {
            _dense.weight!.mul_(mask);
        }

        _sparse = SparseLinear.FromDense(_dense.weight!, _dense.bias, mask);
        _input = randn(new long[] { Batch, parts[0] }, generator: new Generator(1)).DetachFromDisposeScope();
    }

    /// <summary>Releases native memory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _sparse.Dispose();
        _dense.Dispose();
        _input.Dispose();
    }

    /// <summary>libtorch dense Linear with the masked weight.</summary>
    [Benchmark(Baseline = true)]
    public float Dense()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var y = _dense.call(_input);
        return y[0, 0].item<float>();
    }

    /// <summary>The managed CSR kernel.</summary>
    [Benchmark]
    public float Sparse()
    {
        using var scope = NewDisposeScope();
        var y = _sparse.call(_input);
        return y[0, 0].item<float>();
    }
}
