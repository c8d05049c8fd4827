// The runs here take well under a second each; they use the default cancellation token (the tests of cancellation pass their own).
#pragma warning disable xUnit1051

using Sparsity.IO;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;
using static Sparsity.Tests.Training.TrainingFixtures;

namespace Sparsity.Tests.Training;

[Collection(SequentialCollection.Name)] // seeds the global generator
public sealed class TrainerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sparsity-train-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ATinyRunReducesTheLossAndRecordsEveryEpoch()
    {
        using var model = Mlp(1);
        var before = Evaluator.Evaluate(model, Test);
        var reports = new List<TrainingProgress>();
        var result = new Trainer().Train(model, Train, Test, Fast(epochs: 3), new SyncProgress<TrainingProgress>(reports.Add));

        result.Epochs.Select(e => e.Epoch).Should().Equal(1, 2, 3);
        result.Epochs[^1].Loss.Should().BeLessThan(result.Epochs[0].Loss);
        result.Epochs[0].Loss.Should().BeLessThan(before.Loss);
        result.Epochs[^1].TrainAccuracy.Should().BeGreaterThan(60);
        result.FinalTestAccuracy.Should().BeGreaterThan(before.Accuracy + 20);
        result.Epochs.Should().OnlyContain(e => e.Seconds > 0 && e.TestLoss != null);
        result.Epochs.Select(e => e.LearningRate).Should().Equal(Fast().LearningRateAt(0), Fast().LearningRateAt(1), Fast().LearningRateAt(2));
        result.CheckpointPath.Should().BeNull();
        reports.Where(r => r.Completed is not null).Select(r => r.Completed).Should().Equal(result.Epochs);
        reports.Should().OnlyContain(r => r.BatchCount == 8 && r.Epochs == 3);
        model.training.Should().BeFalse("the trainer leaves the model in eval mode");
        var after = Evaluator.Evaluate(model, Test);
        after.Accuracy.Should().Be(result.FinalTestAccuracy!.Value);
    }

    [Fact]
    public void TheSameSeedGivesTheSameWeights()
    {
        using var a = Mlp(2);
        using var b = Mlp(2);
        new Trainer().Train(a, Train, null, Fast(epochs: 2));
        new Trainer().Train(b, Train, null, Fast(epochs: 2));
        Identical(Snapshot(a), Snapshot(b)).Should().BeTrue();
        using var c = Mlp(2);
        new Trainer().Train(c, Train, null, Fast(epochs: 2) with { Seed = 8 });
        Identical(Snapshot(a), Snapshot(c)).Should().BeFalse("another seed shuffles differently");
    }

    [Fact]
    public void CancellationLeavesTheLastFinishedEpochsCheckpointAndResumeEqualsUninterrupted()
    {
        // Uninterrupted reference run, with a snapshot of the weights after epoch 1.
        Dictionary<string, Tensor>? afterEpoch1 = null;
        using var reference = Mlp(3);
        var full = new Trainer().Train(reference, Train, Test, Fast(epochs: 3, folder: Path.Combine(_root, "full")),
            new SyncProgress<TrainingProgress>(p => { if (p.Completed?.Epoch == 1) afterEpoch1 = Snapshot(reference); }));

        // Interrupted run: cancelled in the middle of epoch 2.
        var folder = Path.Combine(_root, "interrupted");
        using var cts = new CancellationTokenSource();
        using var interrupted = Mlp(3);
        var act = () => new Trainer().Train(interrupted, Train, Test, Fast(epochs: 3, folder: folder),
            new SyncProgress<TrainingProgress>(p => { if (p.Epoch == 2 && p.Batch >= 2) cts.Cancel(); }), cancellationToken: cts.Token);
        act.Should().Throw<OperationCanceledException>();

        var path = Path.Combine(folder, TrainingCheckpoint.FileName);
        var info = TrainingCheckpoint.Read(path);
        info.Epoch.Should().Be(1);
        info.Epochs.Should().Be(3);
        info.Seed.Should().Be(7);
        info.History.Should().ContainSingle().Which.Should().Be(full.Epochs[0] with { Seconds = info.History[0].Seconds });
        info.TestAccuracy.Should().Be(full.Epochs[0].TestAccuracy);
        Directory.GetFiles(folder).Should().BeEquivalentTo([path, SafeTensorsReader.PreviousGenerationPath(path)]); // no temporary files left

        using var loaded = Mlp(99);
        TrainingCheckpoint.LoadModel(loaded, path).Epoch.Should().Be(1);
        Identical(Snapshot(loaded), afterEpoch1!).Should().BeTrue("the checkpoint holds the weights and BN buffers after epoch 1");

        // Resume into a differently initialised model: the result equals the uninterrupted run bit for bit.
        using var resumed = Mlp(42);
        var result = new Trainer().Resume(resumed, path, Train, Test, Fast(epochs: 3, folder: folder));
        Identical(Snapshot(resumed), Snapshot(reference)).Should().BeTrue();
        result.Epochs.Select(e => e with { Seconds = 0 }).Should().Equal(full.Epochs.Select(e => e with { Seconds = 0 }));
        TrainingCheckpoint.Read(path).Epoch.Should().Be(3);
    }

    [Fact]
    public void ACheckpointBeforeTheFirstEpochExistsAndHoldsMomentumLater()
    {
        var folder = Path.Combine(_root, "c");
        using var cts = new CancellationTokenSource();
        using var model = Mlp(4);
        var initial = Snapshot(model);
        var act = () => new Trainer().Train(model, Train, null, Fast(folder: folder),
            new SyncProgress<TrainingProgress>(_ => cts.Cancel()), cancellationToken: cts.Token);
        act.Should().Throw<OperationCanceledException>();
        var path = Path.Combine(folder, TrainingCheckpoint.FileName);
        using var fresh = Mlp(5);
        TrainingCheckpoint.LoadModel(fresh, path).Epoch.Should().Be(0);
        Identical(Snapshot(fresh), initial).Should().BeTrue();

        using var trained = Mlp(4);
        new Trainer().Train(trained, Train, null, Fast(epochs: 1, folder: folder));
        using var reader = SafeTensorsReader.Open(path);
        reader.Contains(TrainingCheckpoint.MomentumPrefix + "fc1.weight").Should().BeTrue();
        reader.Contains("bn.running_mean").Should().BeTrue();
        reader.Metadata["format"].Should().Be(TrainingCheckpoint.FormatName);
        reader.Metadata["epoch"].Should().Be("1");
    }

    [Fact]
    public void ResumeRejectsOtherOptionsAndCorruptFiles()
    {
        var folder = Path.Combine(_root, "r");
        using var model = Mlp(6);
        new Trainer().Train(model, Train, null, Fast(epochs: 1, folder: folder) with { Epochs = 2 });
        var path = Path.Combine(folder, TrainingCheckpoint.FileName);
        var act = () => new Trainer().Resume(model, path, Train, null, Fast(epochs: 3, folder: folder));
        act.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*epochs=2*epochs=3*");

        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        File.Delete(SafeTensorsReader.PreviousGenerationPath(path)); // no generation to fall back to
        act = () => new Trainer().Resume(model, path, Train, null, Fast(epochs: 2, folder: folder));
        act.Should().Throw<SparsityFormatException>();

        var stateOnly = Path.Combine(_root, "plain.safetensors");
        StateDict.Save(model, stateOnly);
        var read = () => TrainingCheckpoint.Read(stateOnly);
        read.Should().Throw<SparsityFormatException>().WithMessage("*no 'format' entry*");
    }

    [Fact]
    public void HooksRunAroundEveryStepAndMaskedTrainingKeepsPrunedWeightsAtZero()
    {
        using var model = Mlp(7);
        var parameters = new ParameterSelector(new ParameterSelectorOptions()).Select(model);
        using var masks = MaskSet.Dense(parameters);
        using (var half = rand(new long[] { 32, 784 }).gt(0.5))
        {
            masks.Entries.Single(e => e.Key == "fc1.weight").Value.copy_(half);
        }

        using var masked = MaskedModel.Attach(model, masks, parameters);
        var calls = new List<(string, TrainingStep)>();
        var counting = new Counting(calls);
        new Trainer().Train(model, Train, null, Fast(epochs: 2), hooks: new Both(counting, new MaskedTrainingHooks(masked)));

        calls.Count.Should().Be(2 * 2 * 8);
        calls.Where(c => c.Item1 == "before").Select(c => c.Item2.Iteration).Should().Equal(Enumerable.Range(0, 16).Select(i => (long)i));
        calls.Where(c => c.Item1 == "after").Select(c => c.Item2).Last().Should().Be(new TrainingStep(2, 7, 15));
        using var weight = model.state_dict()["fc1.weight"].clone();
        using var pruned = weight.masked_select(masked.Mask("fc1.weight").logical_not());
        pruned.abs().max().item<float>().Should().Be(0f);
        using var kept = weight.masked_select(masked.Mask("fc1.weight"));
        kept.abs().min().item<float>().Should().BeGreaterThan(0f);
    }

    [Fact]
    public void BadArgumentsAreRejectedBeforeTraining()
    {
        using var model = Mlp(8);
        var act = () => new Trainer().Train(model, Train, null, Fast() with { BatchSize = 0 });
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("BatchSize");
        using var wrong = nn.Sequential(("flat", nn.Flatten()), ("fc", nn.Linear(784, 7)));
        act = () => new Trainer().Train(wrong, Train, null, Fast());
        act.Should().Throw<ArgumentException>().WithParameterName("model").WithMessage("*(64, 10)*(64, 7)*");
    }

    private sealed class Counting(List<(string, TrainingStep)> calls) : ITrainingStepHooks
    {
        public void BeforeOptimizerStep(nn.Module model, TrainingStep step) => calls.Add(("before", step));

        public void AfterOptimizerStep(nn.Module model, TrainingStep step) => calls.Add(("after", step));
    }

    private sealed class Both(ITrainingStepHooks a, ITrainingStepHooks b) : ITrainingStepHooks
    {
        public void BeforeOptimizerStep(nn.Module model, TrainingStep step) { a.BeforeOptimizerStep(model, step); b.BeforeOptimizerStep(model, step); }

        public void AfterOptimizerStep(nn.Module model, TrainingStep step) { a.AfterOptimizerStep(model, step); b.AfterOptimizerStep(model, step); }
    }
}
