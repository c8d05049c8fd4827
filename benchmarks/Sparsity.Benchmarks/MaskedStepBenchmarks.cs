using BenchmarkDotNet.Attributes;
using Sparsity;
using Sparsity.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// One training step (forward, backward, SGD with momentum 0.9 and weight decay 5e-4) of LeNet-300-100 and
/// ResNet-20 on a batch of 128 Fashion-MNIST-shaped inputs (1×28×28). Baseline: the dense step. Compared:
/// the same step through the library's masked forward at 90 % sparsity (<see cref="MaskedModel"/>: mask
/// the gradients before the optimiser step, re-apply the mask after), which is what masked training (IMP)
/// pays per step. The ratio is the overhead of masking; the kernels are dense either way.
/// </summary>
[MemoryDiagnoser]
public class MaskedStepBenchmarks
{
    private nn.Module<Tensor, Tensor> _model = null!;
    private optim.Optimizer _optimizer = null!;
    private MaskedModel? _masked;
    private MaskSet _masks = null!;
    private Tensor _inputs = null!;
    private Tensor _labels = null!;

    /// <summary>Reference model name.</summary>
    [Params("lenet300", "resnet20")]
    public string Model { get; set; } = "lenet300";

    /// <summary>Builds the dense model and one fixed batch on the benchmark device.</summary>
    [GlobalSetup(Target = nameof(DenseStep))]
    public void SetupDense() => Setup();

    /// <summary>Builds the model and batch and attaches a random 90 % mask.</summary>
    [GlobalSetup(Target = nameof(MaskedStep))]
    public void SetupMasked()
    {
        Setup();
        _masked = MaskedModel.Attach(_model, _masks);
    }

    private void Setup()
    {
        var device = BenchmarkDevice.Get();
        manual_seed(0);
        _model = ReferenceModels.Create(Model, inputChannels: 1, classCount: 10);
        _model.to(device).train();
        _optimizer = optim.SGD(_model.parameters(), learningRate: 0.01, momentum: 0.9, weight_decay: 5e-4);
        var generator = new Generator(1, device);
        _inputs = randn(new long[] { 128, 1, 28, 28 }, generator: generator, device: device).DetachFromDisposeScope();
        _labels = randint(0, 10, new long[] { 128 }, generator: generator, device: device).DetachFromDisposeScope();
        var parameters = new ParameterSelector().Select(_model);
        using var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, rand(p.Shape, generator: generator, device: device))).ToList());
        _masks = new GlobalAllocation().Allocate(scores, 0.9);
    }

    /// <summary>Releases native memory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _masked?.Dispose();
        _masks.Dispose();
        _inputs.Dispose();
        _labels.Dispose();
        _optimizer.Dispose();
        _model.Dispose();
    }

    /// <summary>The dense training step.</summary>
    [Benchmark(Baseline = true)]
    public double DenseStep() => Step(masked: null);

    /// <summary>The masked training step (gradient masking before, mask re-application after the step).</summary>
    [Benchmark]
    public double MaskedStep() => Step(_masked);

    private double Step(MaskedModel? masked)
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(_model.forward(_inputs), _labels);
        loss.backward();
        masked?.MaskGradients();
        _optimizer.step();
        masked?.Reapply();
        return BenchmarkDevice.Read(loss);
    }
}
