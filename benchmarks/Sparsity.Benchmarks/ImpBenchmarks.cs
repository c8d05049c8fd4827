using BenchmarkDotNet.Attributes;
using Sparsity.Data;
using Sparsity.Models;
using Sparsity.Search.Tickets;
using Sparsity.Training;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// Iterative magnitude pruning with rewinding to initialisation (Frankle and Carbin, 2019) on LeNet-300-100: one
/// dense level and two pruned levels (20 % of the remaining weights each), one epoch of 20 batches of 128
/// Fashion-MNIST-shaped random inputs per level, no controls. Baseline: the library's dense <see cref="Trainer"/>
/// over the same three epochs. The ratio is what pruning, rewinding and masked training add; the peak-RSS column
/// (<see cref="PeakResidentMemoryColumn"/>) is IMP's resident memory, libtorch's allocations included.
/// </summary>
[MemoryDiagnoser]
public class ImpBenchmarks
{
    private const int Batches = 20;
    private const int Batch = 128;
    private const int Levels = 2;
    private nn.Module<Tensor, Tensor> _initial = null!;
    private TensorDataset _train = null!;
    private TensorDataset _test = null!;

    /// <summary>The model at initialisation and the random data.</summary>
    [GlobalSetup]
    public void Setup()
    {
        manual_seed(0);
        _initial = ReferenceModels.Create("lenet300", inputChannels: 1, classCount: 10);
        var generator = new Generator(1);
        using var x = randn(new long[] { Batches * Batch, 1, 28, 28 }, generator: generator);
        using var y = randint(0, 10, new long[] { Batches * Batch }, generator: generator);
        _train = new TensorDataset(x, y, 10);
        using var tx = randn(new long[] { 4 * Batch, 1, 28, 28 }, generator: generator);
        using var ty = randint(0, 10, new long[] { 4 * Batch }, generator: generator);
        _test = new TensorDataset(tx, ty, 10);
    }

    /// <summary>Releases native memory and reports the process's peak resident memory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        ResidentMemory.ReportPeak();
        _test.Dispose();
        _train.Dispose();
        _initial.Dispose();
    }

    /// <summary>Three dense training epochs (SGD, momentum 0.9, weight decay 5e-4) from the initialisation.</summary>
    [Benchmark(Baseline = true)]
    public double DenseEpochs()
    {
        using var model = Fresh();
        var options = TrainingOptions.ReferenceRecipe with { Epochs = Levels + 1, BatchSize = Batch };
        return new Trainer().Train(model, _train, null, options).Epochs[^1].Loss;
    }

    /// <summary>IMP: train dense, then prune 20 %, rewind and retrain, twice.</summary>
    [Benchmark]
    public double IterativeMagnitudePruning()
    {
        using var model = Fresh();
        var trainer = new TrainerLevelTrainer(_train, _test, TrainingOptions.ReferenceRecipe with { Epochs = 1, BatchSize = Batch });
        var options = new IterativeMagnitudePruningOptions
        {
            Levels = Levels, FractionPerLevel = 0.2, ReinitializeControl = false, RandomMaskControl = false,
        };
        using var result = new Sparsity.Search.Tickets.IterativeMagnitudePruning(options).Run(model, trainer);
        return result.Mask.Density;
    }

    /// <summary>A copy of the initial model, so that every invocation starts from the same weights.</summary>
    private nn.Module<Tensor, Tensor> Fresh()
    {
        var model = ReferenceModels.Create("lenet300", inputChannels: 1, classCount: 10);
        model.load_state_dict(_initial.state_dict());
        return model;
    }
}
