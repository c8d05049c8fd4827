using BenchmarkDotNet.Attributes;
using Sparsity.Models;
using Sparsity.Structured;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// Inference (eval mode, no autograd) of ResNet-20 (option A shortcuts, 1×28×28 inputs) on one libtorch thread:
/// baseline the dense model; compared, the same model with a share of its prunable channels removed by
/// <see cref="ChannelCompactor"/> (L1 filter norm, the same fraction in every removable group), at batch 1 and 128.
/// The ratio is the speed-up structured pruning delivers on this CPU.
/// </summary>
public class CompactInferenceBenchmarks
{
    private nn.Module<Tensor, Tensor> _dense = null!;
    private nn.Module<Tensor, Tensor> _compact = null!;
    private Tensor _inputs = null!;

    /// <summary>Batch size.</summary>
    [Params(1, 128)]
    public int Batch { get; set; } = 1;

    /// <summary>Fraction of prunable channels removed in the compact model.</summary>
    [Params(0.5, 0.7)]
    public double ChannelSparsity { get; set; }

    /// <summary>Builds the dense and the compact model and a fixed batch, one thread.</summary>
    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(1);
        manual_seed(0);
        _dense = new CifarResNet(20, 1, 10);
        _dense.eval();
        manual_seed(0);
        _compact = new CifarResNet(20, 1, 10);
        _compact.eval();
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 28, 28] }).Discover(_compact);
        var mask = ChannelAllocation.Allocate(graph, new L1FilterCriterion().Score(_compact, graph), ChannelSparsity);
        new ChannelCompactor().Compact(_compact, graph, mask);
        _inputs = randn(Batch, 1, 28, 28);
    }

    /// <summary>One forward pass of the dense model.</summary>
    /// <returns>The logits' first element (keeps the work observable).</returns>
    [Benchmark(Baseline = true)]
    public float Dense() => Forward(_dense);

    /// <summary>One forward pass of the compact model.</summary>
    /// <returns>The logits' first element.</returns>
    [Benchmark]
    public float Compact() => Forward(_compact);

    /// <summary>Frees the models and batch.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _inputs.Dispose();
        _dense.Dispose();
        _compact.Dispose();
    }

    private float Forward(nn.Module<Tensor, Tensor> model)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return model.call(_inputs)[0, 0].ToSingle();
    }
}
