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
/// Fashion-MNIST-shaped inputs (1×28×28, random), without evaluation. Baseline: the library's dense
/// <see cref="Trainer"/> epoch. LeNet-300-100 runs a whole Fashion-MNIST epoch (60,000 inputs: 469 steps at batch
/// 128, 235 at 256), as the epochs the goal is stated in, so that the search's per-search work (scores, masks and
/// held weights set up and released, a few ms: <c>sweeps/search-step-split.cs</c>) weighs as it does in a search;
/// ResNet-20 runs 20 steps (a whole epoch would take minutes per iteration; its per-search work is under 0.1 % of
/// 20 steps). The ratio is the cost of searching instead of training (goal: ≤ 1.05).
/// </summary>
[MemoryDiagnoser]
public class SearchStepBenchmarks
{
    private const int FashionMnistTrainingSet = 60_000;
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

    /// <summary>Inputs per epoch: Fashion-MNIST's training set for LeNet-300-100, 20 batches for ResNet-20.</summary>
    public int Inputs => Model == "lenet300" ? FashionMnistTrainingSet : 20 * Batch;

    /// <summary>Builds the model, an epoch of random data and the 90 % magnitude mask.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = BenchmarkDevice.Get();
        manual_seed(0);
        _model = ReferenceModels.Create(Model, inputChannels: 1, classCount: 10);
        _model.to(_device);
        var generator = new Generator(1);
        using var x = randn(new long[] { Inputs, 1, 28, 28 }, generator: generator);
        using var y = randint(0, 10, new long[] { Inputs }, generator: generator);
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

    /// <summary>One dense training epoch (SGD, momentum 0.9, weight decay 5e-4).</summary>
    [Benchmark(Baseline = true)]
    public double DenseEpoch()
    {
        var options = TrainingOptions.ReferenceRecipe with { Epochs = 1, BatchSize = Batch, Device = _device };
        return new Trainer().Train(_model, _data, null, options).Epochs[0].Loss;
    }

    /// <summary>One search epoch with the short restriction (weights frozen and restored).</summary>
    [Benchmark]
    public double SearchEpoch()
    {
        var options = new MaskSearchOptions { Epochs = 1, BatchSize = Batch, Device = _device, EvaluateEveryEpoch = false };
        using var result = new MaskSearcher(options).Search(_model, _initial, _data);
        return result.History[0].TrainLoss;
    }
}
