using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

[Collection(SequentialCollection.Name)]
public sealed class IterativePruningTests
{
    [Fact]
    public void RoundsOfSingleShotSynFlowEqualIterativeSynFlow()
    {
        torch.manual_seed(31);
        using var model = new LeNet5();
        var parameters = TestModels.Select(model);
        var allocation = new GlobalAllocation(allowEmptyLayers: true);
        var schedule = new IterativePruningSchedule { Rounds = 6 };
        using var snapshot = new ModelSnapshot(model);

        var single = new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = 1 }, InputShape = [1, 28, 28] });
        var rounds = new List<int>();
        using var viaHelper = IterativePruning.Run(single, model, parameters, [], allocation, 0.95, schedule,
            new Progress(rounds.Add), Test.Ct);
        using var iterative = new SynFlowCriterion(new SynFlowOptions { Schedule = schedule, InputShape = [1, 28, 28] })
            .Score(model, parameters, [], new ScoringOptions { TargetSparsity = 0.95, Allocation = allocation }, Test.Ct);
        using var expected = allocation.Allocate(iterative, 0.95);

        rounds.Should().Equal(1, 2, 3, 4, 5, 6);
        viaHelper.Mask.Equals(expected).Should().BeTrue();
        snapshot.AssertUnchanged(model);
    }

    [Fact]
    public void IteratedSnipNeverRevivesPrunedWeights()
    {
        using var model = TestModels.Mlp322();
        using var batch = TestModels.MlpBatch();
        var parameters = TestModels.Select(model);
        using var snapshot = new ModelSnapshot(model);
        var schedule = new IterativePruningSchedule { Rounds = 3, Kind = PruningScheduleKind.Linear };
        using var result = IterativePruning.Run(new SnipCriterion(), model, parameters, [batch], new GlobalAllocation(), 0.6, schedule, cancellationToken: Test.Ct);

        // Linear schedule over 10 weights: after round 2 (sparsity 0.4) 6 are kept; round 3 keeps 4 of those.
        result.Mask.KeptCount.Should().Be(4);
        var scores = TestModels.Flat(result.Scores, "fc1.weight", "fc2.weight");
        scores.Count(double.IsNegativeInfinity).Should().Be(4, "the weights pruned in rounds 1–2 are excluded");
        var kept = new[] { "fc1.weight", "fc2.weight" }.SelectMany(n => result.Mask[n].data<bool>().ToArray()).ToArray();
        kept.Where((k, i) => k && double.IsNegativeInfinity(scores[i])).Should().BeEmpty();
        snapshot.AssertUnchanged(model);
    }

    [Fact]
    public void FailureInsideARoundRestoresTheMaskedWeights()
    {
        using var model = TestModels.Mlp322();
        using var good = TestModels.MlpBatch();
        var parameters = TestModels.Select(model);
        using var snapshot = new ModelSnapshot(model);
        var failing = new FailingAfter(1, new MagnitudeCriterion());
        var act = () => IterativePruning.Run(failing, model, parameters, [good], new GlobalAllocation(), 0.5,
            new IterativePruningSchedule { Rounds = 3 }, cancellationToken: Test.Ct);
        act.Should().Throw<InvalidOperationException>().WithMessage("boom");
        snapshot.AssertUnchanged(model);
    }

    private sealed class Progress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    private sealed class FailingAfter(int calls, IPruningCriterion inner) : IPruningCriterion
    {
        private int _calls;

        public string Name => "failing";

        public bool RequiresData => false;

        public ScoreSet Score(nn.Module model, IReadOnlyList<PrunableParameter> parameters, IEnumerable<Batch> batches, ScoringOptions? options = null, CancellationToken cancellationToken = default) =>
            ++_calls > calls ? throw new InvalidOperationException("boom") : inner.Score(model, parameters, batches, options, cancellationToken);
    }
}
