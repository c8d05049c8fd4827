using BenchmarkDotNet.Attributes;
using Sparsity;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// Time to score ResNet-20 (CIFAR shape, 3×32×32, 10 classes) with each criterion on one fixed batch of
/// 128 inputs, against the baseline of one dense forward + backward pass of the same model on the same
/// batch. The ratio column is the "time relative to one dense forward+backward" of issue 4. Magnitude and
/// random are data-free and do not touch the batch; SNIP is one forward + backward; GraSP two forwards, one
/// backward and one double backward; SynFlow runs on a single all-ones input in float64, once per round
/// (1 round, and the default 100 exponential rounds towards 90 % sparsity with global allocation).
/// Every criterion works on working copies of the parameters, so the copy is part of the measured cost.
/// Under <c>--smoke</c> (CI) the batch has 8 inputs and the "100-round" SynFlow runs 3 rounds, so the suite
/// only checks that every path runs.
/// </summary>
[MemoryDiagnoser]
public class CriterionBenchmarks
{
    private nn.Module<Tensor, Tensor> _model = null!;
    private IReadOnlyList<PrunableParameter> _parameters = null!;
    private Batch _batch = null!;
    private static readonly bool Smoke = Environment.GetEnvironmentVariable("SPARSITY_BENCHMARK_SMOKE") == "1";
    private readonly ScoringOptions _options = new() { TargetSparsity = 0.9 };

    /// <summary>Builds ResNet-20 in train mode and one fixed batch on the benchmark device.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var device = BenchmarkDevice.Get();
        manual_seed(0);
        _model = ReferenceModels.Create("resnet20", inputChannels: 3, classCount: 10);
        _model.to(device).train();
        _parameters = new ParameterSelector().Select(_model);
        var generator = new Generator(1, device);
        long size = Smoke ? 8 : 128;
        _batch = new Batch(
            randn(new long[] { size, 3, 32, 32 }, generator: generator, device: device).DetachFromDisposeScope(),
            randint(0, 10, new long[] { size }, generator: generator, device: device).DetachFromDisposeScope());
    }

    /// <summary>Releases native memory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        ResidentMemory.ReportPeak();
        _batch.Dispose();
        _model.Dispose();
    }

    /// <summary>One dense forward + backward pass (gradients zeroed first).</summary>
    [Benchmark(Baseline = true)]
    public double DenseForwardBackward()
    {
        using var scope = NewDisposeScope();
        _model.zero_grad();
        var loss = nn.functional.cross_entropy(_model.forward(_batch.Inputs), _batch.Labels);
        loss.backward();
        return BenchmarkDevice.Read(loss);
    }

    /// <summary>|w|.</summary>
    [Benchmark]
    public double Magnitude() => Run(new MagnitudeCriterion());

    /// <summary>Seeded uniform scores.</summary>
    [Benchmark]
    public double Random() => Run(new RandomCriterion(0));

    /// <summary>SNIP on the batch.</summary>
    [Benchmark]
    public double Snip() => Run(new SnipCriterion());

    /// <summary>GraSP on the batch (one chunk, T = 200).</summary>
    [Benchmark]
    public double Grasp() => Run(new GraspCriterion());

    /// <summary>Single-shot SynFlow (1 round).</summary>
    [Benchmark]
    public double SynFlowOneRound() => Run(new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = 1 } }));

    /// <summary>SynFlow with the default 100 exponential rounds towards 90 % sparsity.</summary>
    [Benchmark]
    public double SynFlow100Rounds() => Run(new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = Smoke ? 3 : 100 } }));

    private double Run(IPruningCriterion criterion)
    {
        using var scores = criterion.Score(_model, _parameters, [_batch], _options);
        using var scope = NewDisposeScope();
        return BenchmarkDevice.Read(scores[scores.Names[0]].sum());
    }
}
