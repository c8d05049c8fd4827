using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Sparsity.Deployment.Inference;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// LeNet-300-100 inference (forward pass, no gradient, 1 thread) at 90 % and 98 % sparsity (layer-wise magnitude on
/// fc1 and fc2, fc3 dense; random initialisation, seed 0 — timing does not depend on accuracy). Baseline: the masked
/// dense model. Compared: the same model after <see cref="SparseDeployment.Convert"/> (managed CSR kernels), the
/// model compiled by <see cref="SparseDeployment.CompileMlp"/> (one fused pass at batch ≤ 2, the converted model
/// above), and libtorch's COO path (<c>to_sparse</c> + <c>mm</c>) for fc1 and fc2. Every row reads the first logit
/// of its output from the tensor's memory (no indexing operators, which alone cost about 2 µs).
/// </summary>
[MemoryDiagnoser]
public class SparseInferenceBenchmarks
{
    private nn.Module<Tensor, Tensor> _model = null!;
    private MaskSet _masks = null!;
    private DeployedModel? _deployed;
    private SparseMlp? _compiled;
    private SparseInferenceSetup.CooLinear[] _coo = [];
    private Linear _fc3 = null!;
    private Tensor _input = null!;

    /// <summary>Fraction of fc1 and fc2 weights pruned.</summary>
    [Params(0.9, 0.98)]
    public double Sparsity { get; set; }

    /// <summary>Examples per forward pass.</summary>
    [Params(1, 128)]
    public int Batch { get; set; }

    /// <summary>Builds the masked model and a fixed input.</summary>
    [GlobalSetup(Target = nameof(Dense))]
    public void SetupDense() => Setup();

    /// <summary>Builds the masked model and converts it.</summary>
    [GlobalSetup(Target = nameof(Sparse))]
    public void SetupSparse()
    {
        Setup();
        _deployed = SparseDeployment.Convert(_model, _masks);
    }

    /// <summary>Builds the masked model and compiles it.</summary>
    [GlobalSetup(Target = nameof(Compiled))]
    public void SetupCompiled()
    {
        Setup();
        _compiled = SparseDeployment.CompileMlp(_model, _masks, [1, 28, 28]);
    }

    /// <summary>Builds the masked model and COO copies of fc1 and fc2.</summary>
    [GlobalSetup(Target = nameof(Coo))]
    public void SetupCoo()
    {
        Setup();
        var linears = _model.named_modules().Select(m => m.module).OfType<Linear>().ToList();
        _coo = linears.Take(2).Select(l => new SparseInferenceSetup.CooLinear(l.weight!, l.bias)).ToArray();
        _fc3 = linears[2];
    }

    private void Setup()
    {
        (_model, _masks) = SparseInferenceSetup.LeNet(Sparsity);
        _input = randn(new long[] { Batch, 1, 28, 28 }, generator: new Generator(1)).DetachFromDisposeScope();
    }

    /// <summary>Releases native memory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _deployed?.Dispose();
        _compiled?.Dispose();
        foreach (var c in _coo)
        {
            c.Dispose();
        }

        _masks.Dispose();
        _input.Dispose();
        _model.Dispose();
    }

    /// <summary>The masked dense model.</summary>
    [Benchmark(Baseline = true)]
    public float Dense() => Run();

    /// <summary>The converted model (SparseLinear for fc1 and fc2 through the forward hooks).</summary>
    [Benchmark]
    public float Sparse() => Run();

    /// <summary>The compiled model (<see cref="SparseMlp"/>).</summary>
    [Benchmark]
    public float Compiled()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return FirstLogit(_compiled!.call(_input));
    }

    /// <summary>fc1 and fc2 through libtorch's COO <c>mm</c>, fc3 dense.</summary>
    [Benchmark]
    public float Coo()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = _input.flatten(1);
        var h = _coo[0].Forward(x).relu();
        h = _coo[1].Forward(h).relu();
        return FirstLogit(_fc3.call(h).contiguous());
    }

    private float Run()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return FirstLogit(_model.call(_input));
    }

    private static float FirstLogit(Tensor logits) => MemoryMarshal.Read<float>(logits.bytes);
}
