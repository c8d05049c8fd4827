using Sparsity.Models;
using static TorchSharp.torch;

namespace Sparsity.Structured.Tests;

public sealed class ChannelDependencyDiscoveryTests
{
    private static string Members(ChannelGroup g) => string.Join(" ", g.Members.Select(m => m.ToString()));

    [Fact]
    public void LeNet5GroupsAreTheHandWrittenOnes()
    {
        using var model = TestModels.Create("lenet5", inputChannels: 1);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 28, 28] }).Discover(model);

        graph.Groups.Select(g => (Members(g), g.ChannelCount, g.Removable)).Should().Equal(
            ("conv1.input×1", 1, false),
            ("conv1.output×1 conv2.input×1", 6, true),
            ("conv2.output×1 fc1.input×25", 16, true),
            ("fc1.output×1 fc2.input×1", 120, true),
            ("fc2.output×1 fc3.input×1", 84, true),
            ("fc3.output×1", 10, false));
        graph.Groups[0].Reason.Should().Contain("input");
        graph.Groups[5].Reason.Should().Contain("output");
        // Flatten: filter c of conv2 feeds features 25c … 25c + 24 of fc1.
        graph.Groups[2].Member("fc1", ChannelRole.Input)!.Channels[3].Should().Equal(Enumerable.Range(75, 25).Select(i => (long)i));
        graph.PrunableChannelCount.Should().Be(6 + 16 + 120 + 84);
    }

    [Fact]
    public void ResidualBlockCouplesEveryLayerSummedTogether()
    {
        using var model = new ProjectionBlockNet();
        TestModels.Randomize(model, 1);
        model.eval();
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 3, 8, 8] }).Discover(model);

        graph.Groups.Select(g => (Members(g), g.ChannelCount, g.Removable)).Should().Equal(
            ("stem.input×1", 3, false),
            ("stem.output×1 stemBn.norm×1 conv1.input×1 proj.input×1", 4, true),
            ("conv1.output×1 bn1.norm×1 conv2.input×1", 6, true),
            ("conv2.output×1 bn2.norm×1 proj.output×1 projBn.norm×1 conv3.input×1 conv3.output×1 bn3.norm×1 fc.input×1", 8, true),
            ("fc.output×1", 5, false));
        var stream = graph.Groups[3];
        foreach (var member in stream.Members)
        {
            member.Channels.Select(c => c.Single()).Should().Equal(Enumerable.Range(0, 8).Select(i => (long)i), member.ToString());
        }
    }

    [Fact]
    public void InPlaceAdditionIntoAnEarlierTensorIsFollowed()
    {
        using var model = new InPlaceResidual();
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 2, 6, 6], ProbeBatchSize = 2 }).Discover(model);
        graph.Groups.Select(g => (Members(g), g.ChannelCount, g.Removable)).Should().Equal(
            ("stem.input×1", 2, false),
            ("stem.output×1 body.input×1 body.output×1 fc.input×1", 4, true),
            ("fc.output×1", 3, false));
    }

    [Fact]
    public void DiscoveryIsDeterministic()
    {
        using var model = TestModels.Create("resnet20", inputChannels: 1);
        var options = new ChannelDiscoveryOptions { InputShape = [1, 1, 16, 16] };
        var a = new ChannelDependencyDiscovery(options).Discover(model);
        var b = new ChannelDependencyDiscovery(options).Discover(model);
        b.Fingerprint.Should().Be(a.Fingerprint);
        b.Describe().Should().Be(a.Describe());
    }
}

/// <summary>A residual written as an in-place addition into the earlier tensor (x += f(x)).</summary>
internal sealed class InPlaceResidual : TorchSharp.torch.nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Conv2d stem = TorchSharp.torch.nn.Conv2d(2, 4, 3, padding: 1);
    private readonly TorchSharp.Modules.Conv2d body = TorchSharp.torch.nn.Conv2d(4, 4, 3, padding: 1);
    private readonly TorchSharp.Modules.Linear fc = TorchSharp.torch.nn.Linear(4, 3);

    internal InPlaceResidual() : base(nameof(InPlaceResidual)) => RegisterComponents();

    public override Tensor forward(Tensor input)
    {
        using var x = stem.call(input);
        using var y = body.call(x.relu());
        x.add_(y);
        using var p = x.mean([2, 3]);
        return fc.call(p);
    }
}
