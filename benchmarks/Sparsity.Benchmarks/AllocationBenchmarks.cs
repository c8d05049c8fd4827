using BenchmarkDotNet.Attributes;
using Sparsity;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// Top-k threshold selection over 0.27 M (ResNet-20), 11.7 M (ResNet-18) and 25.6 M (ResNet-50) scores
/// split into 20 layers, at 90 % sparsity. Baseline: one pass over the same scores (<c>max</c>). Compared:
/// the library's global and layer-wise allocations (kthvalue + one pass over the ties) and the full sort
/// and <c>topk</c> the reference codes use.
/// </summary>
[MemoryDiagnoser]
public class AllocationBenchmarks
{
    private const int Layers = 20;
    private const double TargetSparsity = 0.9;
    private ScoreSet _scores = null!;
    private Tensor _flat = null!;

    /// <summary>Total number of scores.</summary>
    [Params(270_000, 11_700_000, 25_600_000)]
    public int Count { get; set; }

    /// <summary>Random scores on the benchmark device.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var device = BenchmarkDevice.Get();
        var generator = new Generator(0, device);
        _flat = rand(new long[] { Count }, generator: generator, device: device).DetachFromDisposeScope();
        var sizes = Enumerable.Repeat((long)(Count / Layers), Layers).ToArray();
        sizes[^1] += Count - sizes.Sum();
        var parts = _flat.split(sizes, 0);
        _scores = new ScoreSet(parts.Select((p, i) => KeyValuePair.Create($"layer{i}.weight", p.clone().DetachFromDisposeScope())).ToList());
    }

    /// <summary>Releases native memory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _scores.Dispose();
        _flat.Dispose();
    }

    /// <summary>One pass over the scores: the unit the other rows are measured in.</summary>
    [Benchmark(Baseline = true)]
    public double OnePassMax()
    {
        using var max = _flat.max();
        return BenchmarkDevice.Read(max);
    }

    /// <summary>
    /// Allocating and writing the 20 bool masks alone (<c>empty</c> then <c>fill_</c>): the floor of any allocation
    /// that returns fresh masks, which are page-faulted in as they are first written.
    /// </summary>
    [Benchmark]
    public long FreshMasks()
    {
        var masks = _scores.Names.Select(name => empty(_scores[name].shape, ScalarType.Bool).fill_(false)).ToList(); // all alive at once, as returned masks are
        long total = masks.Sum(m => m.numel());
        foreach (var mask in masks)
        {
            mask.Dispose();
        }

        return total;
    }

    /// <summary>The library's global allocation (concatenate, kthvalue, ties, split into masks).</summary>
    [Benchmark]
    public long GlobalAllocation()
    {
        using var masks = new GlobalAllocation(allowEmptyLayers: true).Allocate(_scores, TargetSparsity);
        return masks.KeptCount;
    }

    /// <summary>The library's layer-wise allocation (kthvalue per layer).</summary>
    [Benchmark]
    public long LayerWiseAllocation()
    {
        using var masks = new LayerWiseAllocation().Allocate(_scores, TargetSparsity);
        return masks.KeptCount;
    }

    /// <summary>Global threshold by a full sort (what several reference codes do).</summary>
    [Benchmark]
    public double GlobalThresholdBySort()
    {
        using var scope = NewDisposeScope();
        var sorted = _flat.sort().Values;
        return BenchmarkDevice.Read(sorted[(long)(TargetSparsity * Count)]);
    }

    /// <summary>Global threshold by <c>topk</c> of the kept count.</summary>
    [Benchmark]
    public double GlobalThresholdByTopK()
    {
        using var scope = NewDisposeScope();
        var k = (int)SparsityBudget.KeptCount(Count, TargetSparsity);
        var top = _flat.topk(k).values;
        return BenchmarkDevice.Read(top[k - 1]);
    }
}
