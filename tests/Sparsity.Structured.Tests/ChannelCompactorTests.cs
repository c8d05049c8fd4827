using Sparsity.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured.Tests;

public sealed class ChannelCompactorTests
{
    public static TheoryData<string, int> Models => new()
    {
        { "lenet300", 1 }, { "lenet5", 1 }, { "vgg11", 3 }, { "resnet20", 1 }, { "resnet20-projection", 1 }, { "resnet18", 3 }, { "resnet50", 3 },
        { "torchvision-resnet18", 3 }, { "torchvision-mobilenet_v2", 3 },
    };

    internal static nn.Module<Tensor, Tensor> Build(string name, int channels) => name switch
    {
        "resnet20-projection" => TestModels.Create("resnet20", channels, shortcut: ResNetShortcut.Projection),
        "resnet20" => TestModels.Create("resnet20", channels, shortcut: ResNetShortcut.ZeroPadIdentity),
        "depthwise" => DepthwiseNet.Create(),
        _ => TestModels.Create(name, channels),
    };

    internal static long[] Shape(string name, int channels) => name.StartsWith("lenet", StringComparison.Ordinal) ? [1, channels, 28, 28] : [1, channels, 32, 32];

    /// <summary>Removes about half of every removable group's channels, chosen at random (seeded).</summary>
    internal static ChannelMask HalfMask(ChannelDependencyGraph graph, int seed)
    {
        var random = new Random(seed);
        return new ChannelMask(graph, graph.Groups.Select(g =>
        {
            var keep = Enumerable.Repeat(true, g.ChannelCount).ToArray();
            if (g.Removable)
            {
                foreach (var j in Enumerable.Range(0, g.ChannelCount).OrderBy(_ => random.Next()).Take(g.ChannelCount / 2))
                {
                    keep[j] = false;
                }
            }

            return (IReadOnlyList<bool>)keep;
        }).ToArray());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void CompactLogitsEqualTheChannelMaskedModel(string name, int channels)
    {
        using var model = Build(name, channels);
        var shape = Shape(name, channels);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = shape }).Discover(model);
        graph.RemovableGroups.Should().NotBeEmpty();
        var mask = HalfMask(graph, 3);
        shape[0] = 3;
        using var x = randn(shape, generator: new Generator(7));
        Tensor masked;
        using (no_grad())
        using (ChannelMaskedModel.Attach(model, graph, mask))
        {
            masked = model.call(x);
        }

        using var dense = no_grad() is var ng ? model.call(x) : null!;
        ng.Dispose();
        var before = model.parameters().Sum(p => p.numel());
        var report = new ChannelCompactor().Compact(model, graph, mask);
        using var compact = WithNoGrad(() => model.call(x));

        report.ParametersAfter.Should().BeLessThan(before);
        model.parameters().Sum(p => p.numel()).Should().Be(report.ParametersAfter);
        (compact - masked).abs().max().ToDouble().Should().BeLessThan(1e-5, "compact and channel-masked logits agree");
        (dense - masked).abs().max().ToDouble().Should().BeGreaterThan(1e-3, "removing channels changes the logits at all");
    }

    [Fact]
    public void ZeroPadShortcutNeedsActivationMaskingNotWeightZeroing()
    {
        using var model = Build("resnet20", 1);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 16, 16] }).Discover(model);
        // The residual stream of stage 1 (16 channels) continues at offset 8 in stage 2 and 24 in stage 3.
        var stream = graph.Groups.Single(g => g.Member("conv1", ChannelRole.Output) is not null);
        stream.Removable.Should().BeTrue();
        stream.Member("layer2.0.bn2", ChannelRole.Norm)!.Channels.Select(c => c.Single()).Should().Equal(Enumerable.Range(8, 16).Select(i => (long)i));
        stream.Member("layer3.0.bn2", ChannelRole.Norm)!.Channels.Select(c => c.Single()).Should().Equal(Enumerable.Range(24, 16).Select(i => (long)i));
        // The channels the zero padding adds in stage 2 cannot be removed: the padding width is fixed in forward.
        var padded = graph.Groups.Single(g => g.Member("layer2.0.bn2", ChannelRole.Norm) is { } m && m.Channels[0].Single() == 0);
        padded.Removable.Should().BeFalse();
    }

    [Fact]
    public void DepthwiseConvolutionKeepsItsGroupsConsistent()
    {
        using var model = Build("depthwise", 3);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 3, 16, 16] }).Discover(model);
        var dw = graph.Groups.Single(g => g.Member("dw", ChannelRole.Output) is not null);
        dw.Members.Select(m => m.ToString()).Should().Equal("pw1.output×1", "bn1.norm×1", "dw.input×1", "dw.output×2", "bn2.norm×2", "pw2.input×2");
        var mask = HalfMask(graph, 1);
        using var x = randn([2, 3, 16, 16], generator: new Generator(3));
        Tensor masked;
        using (no_grad())
        using (ChannelMaskedModel.Attach(model, graph, mask))
        {
            masked = model.call(x);
        }

        new ChannelCompactor().Compact(model, graph, mask);
        using var compact = WithNoGrad(() => model.call(x));
        ((Conv2d)model.named_modules().Single(m => m.name == "dw").module).groups.Should().Be(4);
        (compact - masked).abs().max().ToDouble().Should().BeLessThan(1e-5);
    }

    internal static Tensor WithNoGrad(Func<Tensor> f)
    {
        using var noGrad = no_grad();
        return f();
    }
}

/// <summary>Pointwise → depthwise (multiplier 2) → pointwise, as in MobileNet.</summary>
internal sealed class DepthwiseNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d pw1 = nn.Conv2d(3, 8, 1, bias: false);
    private readonly BatchNorm2d bn1 = nn.BatchNorm2d(8);
    private readonly Conv2d dw = nn.Conv2d(8, 16, 3, padding: 1, groups: 8, bias: false);
    private readonly BatchNorm2d bn2 = nn.BatchNorm2d(16);
    private readonly Conv2d pw2 = nn.Conv2d(16, 6, 1);
    private readonly AdaptiveAvgPool2d pool = nn.AdaptiveAvgPool2d(1);
    private readonly Linear fc = nn.Linear(6, 4);

    private DepthwiseNet() : base(nameof(DepthwiseNet)) => RegisterComponents();

    internal static DepthwiseNet Create()
    {
        manual_seed(5);
        var net = new DepthwiseNet();
        TestModels.Randomize(net, 5);
        net.eval();
        return net;
    }

    public override Tensor forward(Tensor input)
    {
        using var a = bn1.call(pw1.call(input)).relu6();
        using var b = bn2.call(dw.call(a)).relu6();
        using var c = pw2.call(b).relu();
        using var p = pool.call(c).flatten(1);
        return fc.call(p);
    }
}
