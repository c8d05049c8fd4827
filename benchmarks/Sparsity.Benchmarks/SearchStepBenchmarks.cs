using BenchmarkDotNet.Attributes;
using Sparsity;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.Models;
using Sparsity.Search;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// The full jackpot search step (forward through W ⊙ M, backward, straight-through score gradient, score SGD,
/// per-layer mask update with the short restriction) against the dense training step, both over one epoch of
/// 20 batches of 128 or 256 Fashion-MNIST-shaped inputs (1×28×28), without evaluation. Baseline: the library's
/// dense <see cref="Trainer"/> epoch. The ratio is the per-step cost of searching instead of training
/// (issue goal: ≤ 1.35× on ResNet-20, ≤ 1.3× per epoch on LeNet-300-100).
/// </summary>
[MemoryDiagnoser]
public class SearchStepBenchmarks
{
    private const int Batches = 20;
    private nn.Module<Tensor, Tensor> _model = null!;
    private TensorDataset _data = null!;
    private InitialMask _initial = null!;
    private Device _device = null!;

    /// <summary>Reference model name.</summary>
    [ParamsSource(typeof(BenchmarkModels), nameof(BenchmarkModels.Names))]
    public string Model { get; set; } = "lenet300";

    /// <summary>Mini-batch size of both epochs: 128 (the official recipe's) and 256.</summary>
    [Params(128, 256)]
    public int Batch { get; set; } = 128;

    /// <summary>Builds the model, 20 batches of random data and the 90 % magnitude mask.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = BenchmarkDevice.Get();
        manual_seed(0);
        _model = ReferenceModels.Create(Model, inputChannels: 1, classCount: 10);
        _model.to(_device);
        var generator = new Generator(1);
        using var x = randn(new long[] { Batches * Batch, 1, 28, 28 }, generator: generator);
        using var y = randint(0, 10, new long[] { Batches * Batch }, generator: generator);
        _data = new TensorDataset(x, y, 10);
        var parameters = new ParameterSelector(new MaskSearchOptions().Parameters).Select(_model);
        _initial = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), 0.9).Initialize(_model, parameters, []);
    }

    /// <summary>Releases native memory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        ResidentMemory.ReportPeak();
        _initial.Dispose();
        _data.Dispose();
        _model.Dispose();
    }

    /// <summary>One dense training epoch of 20 steps (SGD, momentum 0.9, weight decay 5e-4).</summary>
    [Benchmark(Baseline = true)]
    public double DenseEpoch()
    {
        var options = TrainingOptions.ReferenceRecipe with { Epochs = 1, BatchSize = Batch, Device = _device };
        return new Trainer().Train(_model, _data, null, options).Epochs[0].Loss;
    }

    /// <summary>One search epoch of 20 steps with the short restriction (weights frozen and restored).</summary>
    [Benchmark]
    public double SearchEpoch()
    {
        var options = new MaskSearchOptions { Epochs = 1, BatchSize = Batch, Device = _device, EvaluateEveryEpoch = false };
        using var result = new MaskSearcher(options).Search(_model, _initial, _data);
        return result.History[0].TrainLoss;
    }
}
