using Sparsity.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured.Tests;

public sealed class ChannelCriteriaTests
{
    private static readonly ChannelDiscoveryOptions Options = new() { InputShape = [1, 1, 4, 4] };

    [Fact]
    public void L1AndBatchNormScaleMatchHandComputedValues()
    {
        using var model = new ConvBnNet();
        var graph = new ChannelDependencyDiscovery(Options).Discover(model);
        var group = graph.RemovableGroups.Single();
        group.Members.Select(m => m.ToString()).Should().Equal("conv.output×1", "bn.norm×1", "fc.input×1");

        // conv weight [3, 1, 2, 1]: filters (1, -1), (-2, 0.5), (0.25, 0.25); L1 = 2, 2.5, 0.5.
        new L1FilterCriterion().Score(model, graph).Of(group.Index).Should().Equal(2f, 2.5f, 0.5f);
        // γ = (0.3, -0.1, 2): |γ| = 0.3, 0.1, 2.
        new BatchNormScaleCriterion().Score(model, graph).Of(group.Index)!.Should().BeEquivalentTo([0.3f, 0.1f, 2f], o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
    }

    [Fact]
    public void L1SumsOverEveryProducerOfAResidualGroup()
    {
        using var model = new ProjectionBlockNet();
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 3, 8, 8] }).Discover(model);
        var stream = graph.Groups.Single(g => g.Member("conv2", ChannelRole.Output) is not null);
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        float L1(string name, int c) => ((Conv2d)modules[name]).weight[c].abs().sum().ToSingle();
        var expected = Enumerable.Range(0, 8).Select(c => L1("conv2", c) + L1("proj", c) + L1("conv3", c)).ToArray();
        new L1FilterCriterion().Score(model, graph).Of(stream.Index)!.Should().BeEquivalentTo(expected, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-5f)).WhenTypeIs<float>());
    }

    [Fact]
    public void TaylorMatchesTheHandDerivedGradient()
    {
        using var model = new TwoLinear();
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1] }).Discover(model);
        var hidden = graph.RemovableGroups.Single();
        using var batch = new Batch(tensor(new float[] { 1f }).reshape(1, 1), tensor(new long[] { 0 }));
        var scores = new TaylorCriterion().Score(model, graph, [batch]).Of(hidden.Index)!;

        // h = (a, b) = (0.5, -1); z = W2 h = (1·0.5 + 2·(−1), −1·0.5 + 0.5·(−1)) = (−1.5, −1).
        double a = 0.5, b = -1, z0 = -1.5, z1 = -1;
        var p0 = Math.Exp(z0) / (Math.Exp(z0) + Math.Exp(z1));
        double dz0 = p0 - 1, dz1 = 1 - p0;                  // softmax − one-hot(0)
        var dh0 = (1 * dz0) + (-1 * dz1);                    // W2ᵀ dz
        var dh1 = (2 * dz0) + (0.5 * dz1);
        // Σ g·w over the channel's filter (x = 1) and bias (0): a·dh0, b·dh1; importance is the square.
        scores[0].Should().BeApproximately((float)Math.Pow(a * dh0, 2), 1e-5f);
        scores[1].Should().BeApproximately((float)Math.Pow(b * dh1, 2), 1e-5f);
    }

    [Fact]
    public void UniformAllocationRemovesTheLowestScoresOfEveryGroup()
    {
        using var model = TestModels.Create("lenet5", 1);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 28, 28] }).Discover(model);
        var scores = new L1FilterCriterion().Score(model, graph);
        var mask = ChannelAllocation.Allocate(graph, scores, 0.5);
        foreach (var g in graph.RemovableGroups)
        {
            var s = scores.Of(g.Index)!;
            var kept = mask.Kept(g.Index);
            kept.Count(k => !k).Should().Be(g.ChannelCount / 2);
            s.Where((_, j) => kept[j]).Min().Should().BeGreaterThanOrEqualTo(s.Where((_, j) => !kept[j]).Max());
        }
    }

    [Fact]
    public void GlobalAllocationHonoursTheFloor()
    {
        using var model = TestModels.Create("lenet5", 1);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 28, 28] }).Discover(model);
        // Scores: conv1 channels tiny, everything else large: a global threshold would empty conv1 without the floor.
        var raw = graph.Groups.Select(g => g.Removable ? Enumerable.Range(0, g.ChannelCount).Select(j => g.Member("conv1", ChannelRole.Output) is null ? 10f + j : j * 0.001f).ToArray() : null).ToArray();
        var scores = new ChannelScores(graph, raw);
        var mask = ChannelAllocation.Allocate(graph, scores, 0.1, new ChannelAllocationOptions { Mode = ChannelAllocationMode.Global, MinChannelsPerGroup = 2 });
        mask.RemovedChannelCount.Should().Be((long)Math.Floor(0.1m * graph.PrunableChannelCount));
        var conv1 = graph.Groups.Single(g => g.Member("conv1", ChannelRole.Output) is not null);
        mask.Kept(conv1.Index).Should().Equal(false, false, false, false, true, true);
    }

    [Fact]
    public void AllocationRejectsASparsityBeyondTheFloor()
    {
        using var model = TestModels.Create("lenet5", 1);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 28, 28] }).Discover(model);
        var scores = new RandomChannelCriterion(1).Score(model, graph);
        var act = () => ChannelAllocation.Allocate(graph, scores, 0.9, new ChannelAllocationOptions { MinChannelsPerGroup = 2 });
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "sparsity" && e.Message.Contains("conv1.output"));
        var act2 = () => ChannelAllocation.Allocate(graph, scores, 1.0);
        act2.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "sparsity");
        new RandomChannelCriterion(1).Score(model, graph).Of(1).Should().Equal(scores.Of(1));
    }

    private sealed class ConvBnNet : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv = nn.Conv2d(1, 3, (2, 1), bias: false);
        private readonly BatchNorm2d bn = nn.BatchNorm2d(3);
        private readonly Linear fc = nn.Linear(3, 2);

        internal ConvBnNet() : base(nameof(ConvBnNet))
        {
            RegisterComponents();
            using var noGrad = no_grad();
            conv.weight.copy_(tensor(new float[] { 1, -1, -2, 0.5f, 0.25f, 0.25f }).reshape(3, 1, 2, 1));
            bn.weight!.copy_(tensor(new float[] { 0.3f, -0.1f, 2f }));
            eval();
        }

        public override Tensor forward(Tensor input)
        {
            using var h = bn.call(conv.call(input)).relu();
            using var p = h.mean([2, 3]);
            return fc.call(p);
        }
    }

    private sealed class TwoLinear : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc1 = nn.Linear(1, 2);
        private readonly Linear fc2 = nn.Linear(2, 2, hasBias: false);

        internal TwoLinear() : base(nameof(TwoLinear))
        {
            RegisterComponents();
            using var noGrad = no_grad();
            fc1.weight.copy_(tensor(new float[] { 0.5f, -1f }).reshape(2, 1));
            fc1.bias!.zero_();
            fc2.weight.copy_(tensor(new float[] { 1f, 2f, -1f, 0.5f }).reshape(2, 2));
        }

        public override Tensor forward(Tensor input) => fc2.call(fc1.call(input));
    }
}
