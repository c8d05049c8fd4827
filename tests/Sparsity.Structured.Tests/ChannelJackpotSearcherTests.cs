using Sparsity.Data;
using Sparsity.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Structured.Tests;

public sealed class ChannelJackpotSearcherTests
{
    [Fact]
    public void SearchKeepsCountsAndLeavesWeightsBitIdentical()
    {
        using var model = TestModels.Create("resnet20", 1, shortcut: Sparsity.Models.ResNetShortcut.Projection);
        model.train();
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 16, 16] }).Discover(model);
        var l1 = new L1FilterCriterion().Score(model, graph);
        var start = ChannelAllocation.Allocate(graph, l1, 0.5);
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var generator = new Generator(11);
        using var data = new TensorDataset(randn([64, 1, 16, 16], generator: generator), randint(0, 10, [64], generator: generator), 10);

        var options = new ChannelJackpotOptions
        {
            Epochs = 2, BatchSize = 16, MaxStepsPerEpoch = 3, LearningRate = 5, Restriction = NoRestriction.Instance, BatchNorm = BatchNormPolicy.Freeze,
        };
        var result = new ChannelJackpotSearcher(options).Search(model, graph, start, l1, data);

        result.Steps.Should().Be(6);
        result.AcceptedSwaps.Should().BeGreaterThan(0, "scores trained with a large step move channels in and out");
        foreach (var g in graph.Groups)
        {
            result.Mask.Kept(g.Index).Count(k => k).Should().Be(start.Kept(g.Index).Count(k => k), $"group {g.Index} keeps its count");
        }

        foreach (var (key, value) in model.state_dict())
        {
            value.allclose(before[key], rtol: 0, atol: 0).Should().BeTrue(key);
        }

        model.training.Should().BeTrue("the train/eval flags are restored");
        model.parameters().All(p => p.requires_grad).Should().BeTrue("requires_grad is restored");
    }

    [Fact]
    public void RecalibrationLeavesParametersAndGivesTheCompactModelsStatistics()
    {
        using var model = TestModels.Create("resnet20", 1, shortcut: Sparsity.Models.ResNetShortcut.Projection);
        model.eval();
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 16, 16] }).Discover(model);
        var l1 = new L1FilterCriterion().Score(model, graph);
        var start = ChannelAllocation.Allocate(graph, l1, 0.5);
        var parameters = model.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter.detach().clone());
        var statistics = model.named_buffers().Where(b => b.name.EndsWith("running_mean", StringComparison.Ordinal)).ToDictionary(kv => kv.name, kv => kv.buffer.clone());
        var generator = new Generator(13);
        using var data = new TensorDataset(randn([64, 1, 16, 16], generator: generator), randint(0, 10, [64], generator: generator), 10);

        var options = new ChannelJackpotOptions { Epochs = 1, BatchSize = 16, LearningRate = 5, Restriction = NoRestriction.Instance };
        options.BatchNorm.Should().Be(BatchNormPolicy.RecalibrateAfter, "the default");
        var result = new ChannelJackpotSearcher(options).Search(model, graph, start, l1, data);

        foreach (var (name, p) in model.named_parameters())
        {
            p.allclose(parameters[name], rtol: 0, atol: 0).Should().BeTrue(name);
        }

        model.named_buffers().Where(b => statistics.ContainsKey(b.name)).Any(b => !b.buffer.allclose(statistics[b.name])).Should().BeTrue("the statistics were re-estimated");
        model.training.Should().BeFalse("the train/eval flags are restored");

        // Re-estimating the statistics of the compacted model over the same data gives the same values.
        new ChannelCompactor().Compact(model, graph, result.Mask);
        var found = model.named_buffers().Where(b => b.name.Contains("running_", StringComparison.Ordinal)).ToDictionary(kv => kv.name, kv => kv.buffer.clone());
        BatchNormRecalibration.Run(model, data, batchSize: 16);
        foreach (var (name, buffer) in model.named_buffers().Where(b => found.ContainsKey(b.name)))
        {
            buffer.allclose(found[name], rtol: 1e-4, atol: 1e-5).Should().BeTrue(name);
        }
    }

    [Fact]
    public void ARestrictionThatRefusesEverySwapKeepsTheStartMask()
    {
        using var model = TestModels.Create("lenet5", 1);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 28, 28] }).Discover(model);
        var l1 = new L1FilterCriterion().Score(model, graph);
        var start = ChannelAllocation.Allocate(graph, l1, 0.5);
        var generator = new Generator(12);
        using var data = new TensorDataset(randn([32, 1, 28, 28], generator: generator), randint(0, 10, [32], generator: generator), 10);
        var options = new ChannelJackpotOptions { Epochs = 1, BatchSize = 16, LearningRate = 5, Restriction = new RefuseAll() };
        var result = new ChannelJackpotSearcher(options).Search(model, graph, start, l1, data);
        result.AcceptedSwaps.Should().Be(0);
        ((RefuseAll)options.Restriction).Proposals.Should().BeGreaterThan(0, "the scores moved and swaps were proposed");
        foreach (var g in graph.Groups)
        {
            result.Mask.Kept(g.Index).Should().Equal(start.Kept(g.Index));
        }
    }

    private sealed class RefuseAll : IRestrictionPolicy
    {
        public int Proposals { get; private set; }

        public string Name => "refuse";

        public string Description => "refuse";

        public long AcceptedPairs(in LayerProposal proposal)
        {
            Proposals++;
            return 0;
        }
    }

    [Fact]
    public void OptionsOutOfRangeNameTheOption()
    {
        var act = () => new ChannelJackpotSearcher(new ChannelJackpotOptions { Momentum = 1 });
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "Momentum");
        var policy = () => new ChannelJackpotSearcher(new ChannelJackpotOptions { BatchNorm = (BatchNormPolicy)7 });
        policy.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "BatchNorm");
    }
}
