using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

[Collection(SequentialCollection.Name)]
public sealed class InitializerTests
{
    [Fact]
    public void CriterionInitializerCutsMagnitudeAtTheSparsity()
    {
        using var model = TestModels.Mlp322();
        var init = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), 0.5);
        using var result = init.Initialize(model, TestModels.Select(model), [], Test.Ct);
        result.Mask.KeptCount.Should().Be(5);
        // |w| = .5 .3 .8 .6 .4 .2 | .7 .9 .4 .6 → the five largest: .9 .8 .7 .6 .6 (two .6: both kept, index order among equals).
        var kept = new[] { "fc1.weight", "fc2.weight" }.SelectMany(n => result.Mask[n].data<bool>().ToArray()).ToArray();
        kept.Should().Equal(false, false, true, true, false, false, true, true, false, true);
        result.Scores.Names.Should().Equal(result.Mask.Names);
    }

    [Fact]
    public void CriterionInitializerPassesSparsityAndAllocationToIterativeCriteria()
    {
        torch.manual_seed(4);
        using var model = new LeNet5();
        var allocation = new LayerWiseAllocation();
        var init = new CriterionMaskInitializer(
            new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = 3 }, InputShape = [1, 28, 28] }), allocation, 0.8);
        using var result = init.Initialize(model, TestModels.Select(model), [], Test.Ct);
        foreach (var layer in result.Mask.Layers)
        {
            layer.Kept.Should().Be(SparsityBudget.KeptCount(layer.Total, 0.8), layer.Name);
        }
    }

    [Fact]
    public void SparsityOutOfRangeNamesTheParameter()
    {
        var act = () => new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), 1.0);
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "sparsity");
    }

    [Fact]
    public void MaskFileRoundTripGivesOneAndZeroScores()
    {
        using var model = TestModels.Mlp322();
        var parameters = TestModels.Select(model);
        var path = Path.Combine(Path.GetTempPath(), $"criteria-mask-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var scores = new RandomCriterion(5).Score(model, parameters, [], cancellationToken: Test.Ct))
            using (var mask = new GlobalAllocation().Allocate(scores, 0.6))
            {
                // Save in reverse layer order: the initializer must reorder to the parameters' order.
                using var reversed = new MaskSet(mask.Entries.Reverse().Select(e => KeyValuePair.Create(e.Key, e.Value.clone())).ToList());
                reversed.Save(path);
                using var result = new MaskFileInitializer(path).Initialize(model, parameters, [], Test.Ct);
                result.Mask.Names.Should().Equal("fc1.weight", "fc2.weight");
                result.Mask.Equals(mask).Should().BeTrue();
                foreach (var name in result.Mask.Names)
                {
                    using var expected = mask[name].to(ScalarType.Float32);
                    result.Scores[name].eq(expected).all().item<bool>().Should().BeTrue();
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MaskFileThatDoesNotFitTheModelIsRejected()
    {
        using var model = TestModels.Mlp322();
        using var other = nn.Sequential(("fc1", nn.Linear(4, 2)), ("fc2", nn.Linear(2, 2)));
        var path = Path.Combine(Path.GetTempPath(), $"criteria-mask-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var mask = MaskSet.Dense(TestModels.Select(other)))
            {
                mask.Save(path);
            }

            var act = () => new MaskFileInitializer(path).Initialize(model, TestModels.Select(model), [], Test.Ct);
            act.Should().Throw<ArgumentException>().Where(e => e.Message.Contains("fc1.weight"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ScheduleEndsAtTheTargetAndDecaysAsSpecified()
    {
        var exp = new IterativePruningSchedule { Rounds = 4 }.Sparsities(0.9375);
        exp.Should().Equal([0.5, 0.75, 0.875, 0.9375], (a, b) => Math.Abs(a - b) < 1e-12); // d = 1/16, d^(k/4) = 2^-k
        var lin = new IterativePruningSchedule { Rounds = 4, Kind = PruningScheduleKind.Linear }.Sparsities(0.8);
        lin.Should().Equal([0.2, 0.4, 0.6, 0.8], (a, b) => Math.Abs(a - b) < 1e-12);
        new IterativePruningSchedule().Sparsities(0.3).Should().Equal(0.3);
        new IterativePruningSchedule { Rounds = 3 }.Sparsities(0.0).Should().OnlyContain(s => s == 0.0);
    }
}
