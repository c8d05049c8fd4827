using Sparsity.Data;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

[Collection(SequentialCollection.Name)]
public sealed class MaskSearcherTests
{
    private static readonly MaskSearchOptions Quick = new() { Epochs = 2, BatchSize = 32, EvaluationBatchSize = 500 };

    private static (nn.Module<Tensor, Tensor> Model, TensorDataset Train, TensorDataset Test) PretrainedMlp(long seed = 0, int epochs = 3)
    {
        var model = Fixtures.Mlp(seed);
        var train = Fixtures.Teacher(512, 1, [20]);
        var test = Fixtures.Teacher(500, 2, [20]);
        Fixtures.Pretrain(model, train, epochs);
        return (model, train, test);
    }

    [Fact]
    public void ScoreGradientIsTheWeightGradientOfTheMaskedModelTimesTheDenseWeight()
    {
        var (model, train, _) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.8);

        // Explicit route: a copy whose weights are W ⊙ M as ordinary leaves, autograd on the whole data (one batch).
        using var copy = Fixtures.Mlp(99);
        Fixtures.Load(copy, Fixtures.State(model));
        var parameters = Fixtures.Parameters(copy);
        var dense = parameters.ToDictionary(p => p.Name, p => p.Weight.detach().clone());
        using (no_grad())
        {
            foreach (var p in parameters)
            {
                p.Weight.mul_(initial.Mask[p.Name]);
            }
        }

        copy.train();
        var loss = nn.functional.cross_entropy(copy.call(train.Inputs), train.Labels);
        loss.backward();
        var expected = parameters.ToDictionary(p => p.Name, p => p.Weight.grad!.mul(dense[p.Name]));

        var options = new MaskSearchOptions
        {
            Epochs = 1, BatchSize = 512, LearningRate = 1.0, Momentum = 0, WeightDecay = 0,
            Schedule = LearningRateSchedule.Constant, Restriction = NoRestriction.Instance,
        };
        using var result = new MaskSearcher(options).Search(model, initial, train);
        using var start = OfficialScoreInitializer.Instance.Initialize(initial);
        foreach (var p in parameters)
        {
            using var grad = start.Scores[p.Name].sub(result.Scores[p.Name]); // s0 − s1 = lr · g
            using var diff = grad.sub(expected[p.Name]).abs().max();
            using var scale = expected[p.Name].abs().max();
            scale.item<float>().Should().BeGreaterThan(0);
            diff.item<float>().Should().BeLessThan(2e-6f + 1e-4f * scale.item<float>(), p.Name);
        }
    }

    [Theory]
    [InlineData("official")]
    [InlineData("decaying")]
    [InlineData("constant")]
    [InlineData("none")]
    public void KeptCountsStayFixedEveryStep(string variant)
    {
        var (model, train, _) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.9);
        IRestrictionPolicy policy = variant switch
        {
            "decaying" => new ShortRestriction(RestrictionSchedule.Decaying),
            "constant" => new ShortRestriction(RestrictionSchedule.Constant(0.3)),
            "none" => NoRestriction.Instance,
            _ => new ShortRestriction(),
        };
        var searcher = new MaskSearcher(Quick with { Restriction = policy, Epochs = 3 });
        int steps = 0;
        searcher.StepObserver = (masked, _) =>
        {
            steps++;
            foreach (var name in masked.Names)
            {
                masked.Mask(name).count_nonzero().item<long>().Should().Be(initial.Mask.KeptIn(name));
            }
        };
        using var result = searcher.Search(model, initial, train);
        steps.Should().Be(3 * 16);
        result.Masks.Layers.Select(l => l.Kept).Should().Equal(initial.Mask.Layers.Select(l => l.Kept));
        result.History.Sum(h => h.FlipsAccepted).Should().BeGreaterThan(0, "the search must change the mask");
        result.History.Should().OnlyContain(h => h.FlipsAccepted % 2 == 0 && h.FlipsRefused % 2 == 0);
        if (variant == "decaying")
        {
            result.History.Sum(h => h.FlipsRefused).Should().BeGreaterThan(0, "the decaying cap refuses some proposed swaps");
        }
    }

    [Fact]
    public void NoRestrictionEqualsPlainTopKAfterEveryStep()
    {
        var (model, train, _) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.9);
        var searcher = new MaskSearcher(Quick with { Restriction = NoRestriction.Instance });
        int checkedSteps = 0;
        searcher.StepObserver = (masked, state) =>
        {
            foreach (var name in masked.Names)
            {
                using var scope = NewDisposeScope();
                var expected = LayerSelection.ExactTopK(state.Scores[name], initial.Mask.KeptIn(name)).Mask;
                Fixtures.Same(masked.Mask(name), expected).Should().BeTrue(name);
            }

            checkedSteps++;
        };
        using var result = searcher.Search(model, initial, train);
        checkedSteps.Should().BeGreaterThan(0);
    }

    [Fact]
    public void ShortRestrictionKeepsAMaskWhoseSwapsAreBalanced()
    {
        var (model, train, _) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.9);
        var searcher = new MaskSearcher(Quick);
        MaskSet? previous = null;
        searcher.StepObserver = (masked, _) =>
        {
            var now = masked.Snapshot();
            if (previous is not null)
            {
                foreach (var layer in previous.Flips(now).Layers)
                {
                    layer.TurnedOn.Should().Be(layer.TurnedOff, layer.Name);
                }

                previous.Dispose();
            }

            previous = now;
        };
        using var result = searcher.Search(model, initial, train);
        previous?.Dispose();
    }

    [Fact]
    public void CpuAndTensorSelectorsGiveTheSameSearch()
    {
        SearchResult Run(bool forceTensor)
        {
            var (model, train, _) = PretrainedMlp();
            using var _m = model;
            using var _t = train;
            using var initial = Fixtures.Magnitude(model, 0.9);
            SearchState.ForceTensorSelector = forceTensor;
            try
            {
                return new MaskSearcher(Quick with { Restriction = new ShortRestriction(RestrictionSchedule.Decaying) }).Search(model, initial, train);
            }
            finally
            {
                SearchState.ForceTensorSelector = false;
            }
        }

        using var cpu = Run(false);
        using var tensorPath = Run(true);
        cpu.Masks.Equals(tensorPath.Masks).Should().BeTrue();
        cpu.History.Select(h => (h.FlipsAccepted, h.FlipsRefused)).Should().Equal(tensorPath.History.Select(h => (h.FlipsAccepted, h.FlipsRefused)));
        cpu.History.Sum(h => h.FlipsAccepted).Should().BeGreaterThan(0);
    }

    [Fact]
    public void SetMaskAtEqualsSetMaskWithTheSameMask()
    {
        var model = Fixtures.Mlp(4);
        using var _m = model;
        using var twin = Fixtures.Mlp(4);
        var parameters = Fixtures.Parameters(model);
        using var initial = Fixtures.Magnitude(model, 0.7);
        using var a = MaskedModel.Attach(model, initial.Mask, parameters);
        using var b = MaskedModel.Attach(twin, initial.Mask, Fixtures.Parameters(twin));
        using (no_grad())
        {
            parameters[0].Weight.add_(0.5); // a "trained" live value at kept positions must be merged into D
            Fixtures.Parameters(twin)[0].Weight.add_(0.5);
            a.Reapply();
            b.Reapply();
        }

        var name = parameters[0].Name;
        using var flat = a.Mask(name).view(-1).clone();
        var on = flat.logical_not().nonzero().flatten().narrow(0, 0, 5);
        var off = flat.nonzero().flatten().narrow(0, 0, 7);
        a.SetMaskAt(name, on, keep: true);
        a.SetMaskAt(name, off, keep: false);
        using var target = flat.index_fill(0, on, true).index_fill(0, off, false).view(a.Mask(name).shape);
        b.SetMask(name, target);
        Fixtures.Same(a.Mask(name), b.Mask(name)).Should().BeTrue();
        // D is authoritative at pruned positions (at kept ones the live weight is).
        using var pruned = a.Mask(name).logical_not();
        Fixtures.Same(a.DenseWeight(name).mul(pruned), b.DenseWeight(name).mul(pruned)).Should().BeTrue();
        Fixtures.Same(parameters[0].Weight, Fixtures.Parameters(twin)[0].Weight).Should().BeTrue();
        var bad = () => a.SetMaskAt(name, tensor(new long[] { -1 }), true);
        bad.Should().Throw<ArgumentException>().WithParameterName("positions");
        a.Dispose();
        b.Dispose();
        Fixtures.Same(parameters[0].Weight, Fixtures.Parameters(twin)[0].Weight).Should().BeTrue("disposal restores the same dense weights");
    }

    [Fact]
    public void PretrainedWeightsFlagsAndModesAreUntouched()
    {
        var model = Fixtures.ConvBn(3);
        using var _m = model;
        using var train = Fixtures.Teacher(256, 1, [1, 6, 6]);
        Fixtures.Pretrain(model, train, 2);
        model.eval();
        var before = Fixtures.State(model);
        var parameterNames = model.named_parameters().Select(p => p.name).ToHashSet();
        using (no_grad())
        {
            model.get_parameter("fc2.bias")!.requires_grad = false; // a caller-set flag must survive
        }

        using var initial = Fixtures.Magnitude(model, 0.8);
        using var result = new MaskSearcher(Quick with { BatchNorm = BatchNormPolicy.Freeze }).Search(model, initial, train);
        foreach (var (name, value) in model.state_dict())
        {
            Fixtures.Same(value, before[name]).Should().BeTrue($"{name} must be bit-identical (BatchNorm frozen)");
        }

        model.named_parameters().Where(p => p.name != "fc2.bias").Should().OnlyContain(p => p.parameter.requires_grad);
        model.get_parameter("fc2.bias")!.requires_grad.Should().BeFalse();
        model.parameters().All(p => p.grad is null).Should().BeTrue();
        model.training.Should().BeFalse();
        model.named_modules().Should().OnlyContain(m => !m.module.training);
        parameterNames.Should().NotBeEmpty();
    }

    [Fact]
    public void BatchNormStatisticsUpdateByDefaultAndWeightsStayDense()
    {
        var model = Fixtures.ConvBn(3);
        using var _m = model;
        using var train = Fixtures.Teacher(256, 1, [1, 6, 6]);
        Fixtures.Pretrain(model, train, 2);
        var before = Fixtures.State(model);
        using var initial = Fixtures.Magnitude(model, 0.8);
        using var result = new MaskSearcher(Quick).Search(model, initial, train);
        Fixtures.Same(model.state_dict()["bn.running_mean"], before["bn.running_mean"]).Should().BeFalse();
        foreach (var (name, _) in model.named_parameters())
        {
            Fixtures.Same(model.state_dict()[name], before[name]).Should().BeTrue(name);
        }
    }

    [Fact]
    public void SameSeedGivesTheSameSearch()
    {
        SearchResult Run()
        {
            var (model, train, test) = PretrainedMlp();
            using var _m = model;
            using var _t = train;
            using var _e = test;
            using var initial = Fixtures.Magnitude(model, 0.9);
            return new MaskSearcher(Quick with { Seed = 7 }).Search(model, initial, train, test);
        }

        using var a = Run();
        using var b = Run();
        a.Masks.Equals(b.Masks).Should().BeTrue();
        foreach (var name in a.Scores.Names)
        {
            Fixtures.Same(a.Scores[name], b.Scores[name]).Should().BeTrue(name);
        }

        a.History.Select(h => (h.TrainLoss, h.TestAccuracy, h.FlipsAccepted)).Should().Equal(b.History.Select(h => (h.TrainLoss, h.TestAccuracy, h.FlipsAccepted)));
    }

    [Fact]
    public void ResumeAfterCancellationEqualsAnUninterruptedRun()
    {
        var model = Fixtures.ConvBn(5);
        using var _m = model;
        using var train = Fixtures.Teacher(320, 1, [1, 6, 6]);
        using var test = Fixtures.Teacher(200, 2, [1, 6, 6]);
        Fixtures.Pretrain(model, train, 2);
        var pretrained = Fixtures.State(model);
        using var initial = Fixtures.Magnitude(model, 0.8);
        var options = Quick with { Epochs = 3, ProgressInterval = 1 };

        var folderA = Fixtures.TempFolder();
        using var uninterrupted = new MaskSearcher(options with { CheckpointFolder = folderA }).Search(model, initial, train, test);

        Fixtures.Load(model, pretrained);
        var folderB = Fixtures.TempFolder();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Epoch == 2 && p.Step == 4)
            {
                cts.Cancel();
            }
        });
        var interrupted = () => new MaskSearcher(options with { CheckpointFolder = folderB }).Search(model, initial, train, test, progress, cts.Token);
        interrupted.Should().Throw<OperationCanceledException>();
        File.Exists(MaskSearcher.CheckpointPath(folderB)).Should().BeTrue();
        Directory.GetFiles(folderB, "*.tmp").Should().BeEmpty("no temporary file may be left behind");
        using (var loaded = MaskSet.Load(MaskSearcher.CheckpointPath(folderB)))
        {
            loaded.Layers.Select(l => l.Kept).Should().Equal(initial.Mask.Layers.Select(l => l.Kept), "the checkpoint is also a mask file");
        }

        // A fresh process would start from the pre-trained file; the checkpoint restores the BatchNorm statistics.
        using var fresh = Fixtures.ConvBn(77);
        Fixtures.Load(fresh, pretrained);
        using var resumed = new MaskSearcher(options with { CheckpointFolder = folderB }).Resume(fresh, train, test);
        resumed.Masks.Equals(uninterrupted.Masks).Should().BeTrue();
        foreach (var name in resumed.Scores.Names)
        {
            Fixtures.Same(resumed.Scores[name], uninterrupted.Scores[name]).Should().BeTrue(name);
        }

        resumed.History.Select(h => (h.TrainLoss, h.TestAccuracy, h.FlipsAccepted, h.OverlapWithInitial))
            .Should().Equal(uninterrupted.History.Select(h => (h.TrainLoss, h.TestAccuracy, h.FlipsAccepted, h.OverlapWithInitial)));
        resumed.FinalTestAccuracy.Should().Be(uninterrupted.FinalTestAccuracy);
        Fixtures.Same(fresh.state_dict()["bn.running_var"], model.state_dict()["bn.running_var"]).Should().BeFalse("model still holds the cancelled run's statistics");
    }

    [Fact]
    public void ResumeWithOtherOptionsOrAnotherModelIsRefused()
    {
        var (model, train, _) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.9);
        var folder = Fixtures.TempFolder();
        var options = Quick with { Epochs = 1, CheckpointFolder = folder };
        using (new MaskSearcher(options).Search(model, initial, train))
        {
        }

        var otherOptions = () => new MaskSearcher(options with { LearningRate = 0.2 }).Resume(model, train);
        otherOptions.Should().Throw<ArgumentException>().WithParameterName("options");
        using var other = Fixtures.Mlp(1234);
        var otherModel = () => new MaskSearcher(options).Resume(other, train);
        otherModel.Should().Throw<ArgumentException>().WithParameterName("model");
    }

    [Fact]
    public void TwoEpochSearchBeatsTheMagnitudeMask()
    {
        var model = Fixtures.Mlp(11);
        using var _m = model;
        using var train = Fixtures.Teacher(2048, 1, [20]);
        using var test = Fixtures.Teacher(1000, 2, [20]);
        Fixtures.Pretrain(model, train, 5);
        using var initial = Fixtures.Magnitude(model, 0.95);
        double magnitude;
        using (var masked = MaskedModel.Attach(model, initial.Mask, Fixtures.Parameters(model)))
        {
            magnitude = Evaluator.Evaluate(model, test).Accuracy;
        }

        using var result = new MaskSearcher(new MaskSearchOptions { Epochs = 2, BatchSize = 64 }).Search(model, initial, train, test);
        result.FinalTestAccuracy.Should().BeGreaterThan(magnitude + 2.0, $"magnitude mask {magnitude:F1} %");
        result.History.Should().HaveCount(2);
        result.OverlapWithInitial.Should().BeLessThan(1.0);
    }

    [Fact]
    public void RandomScoreInitializerKeepsTheBudgetAndIsSeeded()
    {
        var model = Fixtures.Mlp(1);
        using var _m = model;
        using var initial = Fixtures.Magnitude(model, 0.9);
        using var a = new RandomScoreInitializer(3).Initialize(initial);
        using var b = new RandomScoreInitializer(3).Initialize(initial);
        using var c = new RandomScoreInitializer(4).Initialize(initial);
        a.Mask.Layers.Select(l => l.Kept).Should().Equal(initial.Mask.Layers.Select(l => l.Kept));
        a.Mask.Equals(b.Mask).Should().BeTrue();
        a.Mask.Equals(c.Mask).Should().BeFalse();
        using var scaled = ScaledScoreInitializer.Instance.Initialize(initial);
        scaled.Mask.Equals(initial.Mask).Should().BeTrue();
        using var max = scaled.Scores["fc1.weight"].abs().max();
        max.item<float>().Should().Be(1f);
    }

    [Fact]
    public void BadOptionsAreRejectedWithTheirName()
    {
        var act = () => new MaskSearchOptions { Epochs = 0 };
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Epochs");
        var lr = () => new MaskSearchOptions { LearningRate = -1 };
        lr.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("LearningRate");
        var momentum = () => new MaskSearchOptions { Momentum = 1 };
        momentum.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Momentum");
        var batch = () => new MaskSearchOptions { BatchSize = 0 };
        batch.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("BatchSize");
        var wd = () => new MaskSearchOptions { WeightDecay = double.NaN };
        wd.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("WeightDecay");
    }

    [Fact]
    public void BadInputsAreRejectedWithTheirName()
    {
        var model = Fixtures.Mlp(1);
        using var _m = model;
        using var train = Fixtures.Teacher(64, 1, [20]);
        var searcher = new MaskSearcher(Quick);

        // Sparsity 1.0: a mask that keeps nothing.
        var parameters = Fixtures.Parameters(model);
        using (var empty = new InitialMask(
            new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, zeros(p.Shape))).ToList()),
            new MaskSet(parameters.Select(p => KeyValuePair.Create(p.Name, zeros(p.Shape, ScalarType.Bool))).ToList())))
        {
            var act = () => searcher.Search(model, empty, train);
            act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("initial").WithMessage("*sparsity 1.0*");
        }

        var allocate = () => new GlobalAllocation().Allocate(new ScoreSet([KeyValuePair.Create("fc1.weight", ones(64, 20))]), 1.0);
        allocate.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sparsity");

        // A model with no prunable layer.
        using var noLayers = nn.Sequential(("act", nn.ReLU()));
        using (var initial = Fixtures.Magnitude(model, 0.5))
        {
            var act = () => searcher.Search(noLayers, initial, train);
            act.Should().Throw<ArgumentException>().WithParameterName("model");
        }

        // An initial mask from another model (same names, other shapes).
        using var other = nn.Sequential(("fc1", nn.Linear(10, 8)), ("act1", nn.ReLU()), ("fc2", nn.Linear(8, 4)), ("act2", nn.ReLU()), ("fc3", nn.Linear(4, 4)));
        using (var foreign = Fixtures.Magnitude(other, 0.5))
        {
            var act = () => searcher.Search(model, foreign, train);
            act.Should().Throw<ArgumentException>().WithParameterName("initial").WithMessage("*another model*");
        }

        // An initial mask naming weights the model lacks.
        using var renamed = nn.Sequential(("a", nn.Linear(20, 64)), ("b", nn.Linear(64, 4)));
        using (var foreign = Fixtures.Magnitude(renamed, 0.5))
        {
            var act = () => searcher.Search(model, foreign, train);
            act.Should().Throw<ArgumentException>().WithParameterName("initial");
        }
    }

    /// <summary>IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<SearchProgress> report) : IProgress<SearchProgress>
    {
        public void Report(SearchProgress value) => report(value);
    }
}
