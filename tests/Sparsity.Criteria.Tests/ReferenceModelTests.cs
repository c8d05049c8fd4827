using Sparsity.Data;
using Sparsity.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

/// <summary>The criteria on the library's ResNet-20 (BatchNorm, residual blocks, custom modules).</summary>
[Collection(SequentialCollection.Name)]
public sealed class ReferenceModelTests
{
    [Fact]
    public void EveryCriterionLeavesResNet20UnchangedAndScoresEveryLayer()
    {
        torch.manual_seed(21);
        using var model = ReferenceModels.Create("resnet20", inputChannels: 3, classCount: 10);
        model.train();
        var parameters = new ParameterSelector().Select(model);
        using var batch = new Batch(randn(4, 3, 32, 32), tensor(new long[] { 0, 3, 7, 9 }));
        using (var loss = nn.functional.cross_entropy(model.forward(batch.Inputs), batch.Labels))
        {
            loss.backward(); // stale gradients that must survive scoring
        }

        using var snapshot = new ModelSnapshot(model);
        IPruningCriterion[] criteria =
        [
            new MagnitudeCriterion(), new RandomCriterion(1), new SnipCriterion(), new GraspCriterion(),
            new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = 2 } }),
        ];
        foreach (var criterion in criteria)
        {
            using var scores = criterion.Score(model, parameters, [batch], new ScoringOptions { TargetSparsity = 0.5 }, Test.Ct);
            scores.Names.Should().Equal(parameters.Select(p => p.Name), criterion.Name);
            snapshot.AssertUnchanged(model);
        }
    }

    [Fact]
    public void SynFlowKeepsResNet20ConnectedAt99Percent()
    {
        torch.manual_seed(22);
        using var model = ReferenceModels.Create("resnet20", inputChannels: 3, classCount: 10);
        var parameters = new ParameterSelector().Select(model);
        var allocation = new GlobalAllocation(allowEmptyLayers: true);
        // 20 rounds instead of the default 100 keep the test short; the LeNet-5 test runs the default.
        using var scores = new SynFlowCriterion(new SynFlowOptions { InputShape = [3, 32, 32], Schedule = new() { Rounds = 20 } })
            .Score(model, parameters, [], new ScoringOptions { TargetSparsity = 0.99, Allocation = allocation }, Test.Ct);
        using var mask = allocation.Allocate(scores, 0.99);
        mask.Layers.Should().OnlyContain(l => l.Kept >= 1, "SynFlow must not collapse a layer of ResNet-20");
    }
}
