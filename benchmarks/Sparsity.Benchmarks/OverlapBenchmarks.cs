using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Sparsity.Analysis;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// Mask overlap of two 25.6 M-weight masks (ResNet-50 size, 20 layers, 10 % density) against a plain copy of
/// a same-size bool tensor (category "Masks"), and the exact hypergeometric log tail at n = 1e8,
/// k₁ = k₂ = 1e7 (μ = 1e6, σ ≈ 900) at μ + 5σ and μ + 50σ against one log-pmf evaluation (category "Tail").
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class OverlapBenchmarks
{
    private const int Count = 25_600_000;
    private const int Layers = 20;
    private const long N = 100_000_000;
    private const long K = 10_000_000;
    private const long AtFiveSigma = 1_004_500;
    private const long AtFiftySigma = 1_045_000;

    private MaskSet _a = null!;
    private MaskSet _b = null!;
    private Tensor _flat = null!;

    /// <summary>Two independent random masks (10 % kept) on the benchmark device.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var device = BenchmarkDevice.Get();
        var generator = new Generator(0, device);
        _flat = (rand(new long[] { Count }, generator: generator, device: device) < 0.1).DetachFromDisposeScope();
        _a = Split(_flat);
        using var other = rand(new long[] { Count }, generator: generator, device: device) < 0.1;
        _b = Split(other);
    }

    /// <summary>Releases native memory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
        _flat.Dispose();
    }

    /// <summary>Copies a 25.6 M-element bool tensor: the unit the overlap is measured in.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Masks")]
    public double CopyMask()
    {
        using var copy = _flat.clone();
        using var first = copy[0];
        return BenchmarkDevice.Read(first);
    }

    /// <summary>Per-layer overlap counts (one logical_and + count_nonzero pass per layer).</summary>
    [Benchmark]
    [BenchmarkCategory("Masks")]
    public long MaskOverlapCompute() => MaskOverlap.Compute(_a, _b).Total.Overlap;

    /// <summary>The full report: overlap counts plus the exact per-layer tails and the stratified bound.</summary>
    [Benchmark]
    [BenchmarkCategory("Masks")]
    public double OverlapReportCreate() => OverlapReport.Create(_a, _b).Total.Log10P;

    /// <summary>One saddle-point log-pmf evaluation: the unit of the tail rows.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Tail")]
    public double LogPmf() => Hypergeometric.LogPmf(N, K, K, AtFiveSigma);

    /// <summary>Exact ln P(X ≥ μ + 5σ).</summary>
    [Benchmark]
    [BenchmarkCategory("Tail")]
    public double LogSurvivalFiveSigma() => Hypergeometric.LogSurvival(N, K, K, AtFiveSigma);

    /// <summary>Exact ln P(X ≥ μ + 50σ).</summary>
    [Benchmark]
    [BenchmarkCategory("Tail")]
    public double LogSurvivalFiftySigma() => Hypergeometric.LogSurvival(N, K, K, AtFiftySigma);

    /// <summary>O(1) bracket at μ + 5σ.</summary>
    [Benchmark]
    [BenchmarkCategory("Tail")]
    public double BracketFiveSigma() => Hypergeometric.LogSurvivalBracket(N, K, K, AtFiveSigma).Upper;

    /// <summary>Chernoff/KL bound at μ + 50σ.</summary>
    [Benchmark]
    [BenchmarkCategory("Tail")]
    public double KlBoundFiftySigma() => Hypergeometric.LogSurvivalUpperBound(N, K, K, AtFiftySigma);

    private static MaskSet Split(Tensor flat)
    {
        using var scope = NewDisposeScope();
        var sizes = Enumerable.Repeat((long)(Count / Layers), Layers).ToArray();
        sizes[^1] += Count - sizes.Sum();
        var parts = flat.split(sizes, 0);
        return new MaskSet(parts.Select((p, i) => KeyValuePair.Create($"layer{i}.weight", p.clone().DetachFromDisposeScope())).ToList());
    }
}
