using Sparsity.Data;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

[Collection(SequentialCollection.Name)]
public sealed class SearchPolicyTests
{
    private static readonly MaskSearchOptions Quick = new() { Epochs = 2, BatchSize = 32, EvaluationBatchSize = 500 };

    /// <summary>A data-free initializer (global magnitude) to exercise the IMaskInitializer overload.</summary>
    private sealed class MagnitudeInitializer(double sparsity) : IMaskInitializer
    {
        public int Calls { get; private set; }

        public int BatchesSeen { get; private set; }

        public InitialMask Initialize(nn.Module model, IReadOnlyList<PrunableParameter> parameters, IEnumerable<Batch> batches, CancellationToken cancellationToken = default)
        {
            Calls++;
            BatchesSeen = batches.Count();
            var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
            return new InitialMask(scores, new GlobalAllocation().Allocate(scores, sparsity));
        }
    }

    [Fact]
    public void InitializerOverloadSearchesTheSelectedParametersAndKeepsTheClassifierDense()
    {
        var model = Fixtures.Mlp(2);
        using var _m = model;
        using var train = Fixtures.Teacher(256, 1, [20]);
        Fixtures.Pretrain(model, train, 2);
        var initializer = new MagnitudeInitializer(0.8);
        using var result = new MaskSearcher(Quick with { InitializerBatches = 2 }).Search(model, initializer, train);
        initializer.Calls.Should().Be(1);
        initializer.BatchesSeen.Should().Be(2);
        result.Masks.Names.Should().Equal("fc1.weight", "fc2.weight");
        result.Masks.KeptCount.Should().Be(result.InitialMasks.KeptCount);
    }

    [Fact]
    public void RecalibrationReestimatesTheRunningMeanUnderTheFinalMask()
    {
        var model = Fixtures.ConvBn(8);
        using var _m = model;
        using var train = Fixtures.Teacher(256, 1, [1, 6, 6]);
        Fixtures.Pretrain(model, train, 2);
        using var initial = Fixtures.Magnitude(model, 0.7);
        using var result = new MaskSearcher(Quick with { BatchNorm = BatchNormPolicy.RecalibrateAfter }).Search(model, initial, train);

        // Independent route: the per-channel mean of the masked conv's output over the whole training set
        // (equal batch sizes, so the cumulative average of batch means is the overall mean).
        using var scope = NewDisposeScope();
        var conv = (TorchSharp.Modules.Conv2d)model.named_modules().Single(m => m.name == "conv").module;
        var weight = conv.weight!.detach().mul(result.Masks["conv.weight"]);
        var output = nn.functional.conv2d(train.Inputs, weight, conv.bias!.detach());
        var expected = output.mean([0, 2, 3]);
        var actual = model.state_dict()["bn.running_mean"];
        actual.sub(expected).abs().max().item<float>().Should().BeLessThan(1e-5f);
        var bn = (TorchSharp.Modules.BatchNorm2d)model.named_modules().Single(m => m.name == "bn").module;
        bn.momentum.Should().Be(0.1, "the momentum is restored after recalibration");
    }

    [Fact]
    public void ProgressIsReportedPerIntervalAndPerEpoch()
    {
        var model = Fixtures.Mlp(2);
        using var _m = model;
        using var train = Fixtures.Teacher(256, 1, [20]);
        using var initial = Fixtures.Magnitude(model, 0.8);
        var reports = new List<SearchProgress>();
        var progress = new SyncProgress(reports.Add);
        using var result = new MaskSearcher(Quick with { ProgressInterval = 4 }).Search(model, initial, train, null, progress);
        reports.Count(r => r.Completed is null).Should().Be(2 * 2); // 8 steps per epoch, every 4
        reports.Where(r => r.Completed is not null).Select(r => r.Completed!.Epoch).Should().Equal(1, 2);
        reports.Should().OnlyContain(r => r.StepsPerEpoch == 8 && r.Epochs == 2);
        result.History.Should().OnlyContain(h => h.TestAccuracy == null && h.Steps == 8);
        result.FinalTestAccuracy.Should().BeNull();
    }

    [Fact]
    public void ScheduleMustBeCosineOrConstantAndTheCosineMatchesPyTorch()
    {
        var act = () => new MaskSearchOptions { Schedule = LearningRateSchedule.Step };
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Schedule");
        var o = new MaskSearchOptions { Epochs = 4, LearningRate = 0.1 };
        o.LearningRateAt(0).Should().Be(0.1);
        o.LearningRateAt(2).Should().BeApproximately(0.05, 1e-15);
        (o with { Schedule = LearningRateSchedule.Constant }).LearningRateAt(3).Should().Be(0.1);
        o.Fingerprint().Should().Contain("restriction=short(official)");
    }

    private sealed class SyncProgress(Action<SearchProgress> report) : IProgress<SearchProgress>
    {
        public void Report(SearchProgress value) => report(value);
    }
}
