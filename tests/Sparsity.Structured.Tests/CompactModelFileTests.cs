using Sparsity.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured.Tests;

public sealed class CompactModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("structured-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(ResNetShortcut.ZeroPadIdentity)]
    [InlineData(ResNetShortcut.Projection)]
    public void CompactResNet20RoundTripsWithoutTheOriginal(ResNetShortcut shortcut)
    {
        using var model = TestModels.Create("resnet20", 1, shortcut: shortcut);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 16, 16] }).Discover(model);
        new ChannelCompactor().Compact(model, graph, ChannelCompactorTests.HalfMask(graph, 2));
        var path = Path.Combine(_dir, "compact.safetensors");
        CompactModelFile.Save(model, path);

        using var reader = Sparsity.IO.SafeTensorsReader.Open(path);
        reader.Metadata.Should().ContainKey(CompactModelFile.LayersMetadataKey);
        reader.Info("layer1.0.conv1.weight").Shape.Should().Equal(model.state_dict()["layer1.0.conv1.weight"].shape);

        using var fresh = TestModels.Create("resnet20", 1, shortcut: shortcut, seed: 9);
        CompactModelFile.Load(fresh, path);
        using var x = randn([2, 1, 28, 28], generator: new Generator(4));
        using var expected = ChannelCompactorTests.WithNoGrad(() => model.call(x));
        using var actual = ChannelCompactorTests.WithNoGrad(() => fresh.call(x));
        actual.Should().NotBeNull();
        actual.allclose(expected, rtol: 0, atol: 0).Should().BeTrue("the loaded compact model computes the same logits bit for bit");
        fresh.parameters().Sum(p => p.numel()).Should().Be(model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void LoadIntoAnotherArchitectureNamesTheLayersAndChangesNothing()
    {
        using var model = TestModels.Create("lenet5", 1);
        var path = Path.Combine(_dir, "lenet5.safetensors");
        CompactModelFile.Save(model, path);
        using var other = TestModels.Create("lenet300", 1);
        var before = other.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var act = () => CompactModelFile.Load(other, path);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "path" && e.Message.Contains("'conv1'") && e.Message.Contains("unchanged"));
        foreach (var (key, value) in other.state_dict())
        {
            value.allclose(before[key], rtol: 0, atol: 0).Should().BeTrue(key);
        }
    }

    [Fact]
    public void LoadOfAPlainStateDictIsRejected()
    {
        using var model = TestModels.Create("lenet5", 1);
        var path = Path.Combine(_dir, "plain.safetensors");
        Sparsity.IO.StateDict.Save(model, path);
        var act = () => CompactModelFile.Load(model, path);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "path" && e.Message.Contains(CompactModelFile.LayersMetadataKey));
    }
}

public sealed class BadInputTests
{
    [Fact]
    public void MaskFromAnotherModelIsRejectedAndTheModelIsUnchanged()
    {
        using var a = TestModels.Create("lenet5", 1);
        using var b = TestModels.Create("lenet300", 1);
        var options = new ChannelDiscoveryOptions { InputShape = [1, 1, 28, 28] };
        var graphA = new ChannelDependencyDiscovery(options).Discover(a);
        var graphB = new ChannelDependencyDiscovery(options).Discover(b);
        var maskB = ChannelCompactorTests.HalfMask(graphB, 1);
        var before = a.parameters().Sum(p => p.numel());

        var act = () => new ChannelCompactor().Compact(a, graphA, maskB);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "mask");
        var act2 = () => new ChannelCompactor().Compact(a, graphB, maskB);
        act2.Should().Throw<ArgumentException>().Where(e => e.ParamName == "graph");
        a.parameters().Sum(p => p.numel()).Should().Be(before);
    }

    [Fact]
    public void MaskThatEmptiesALayerIsRejected()
    {
        using var model = TestModels.Create("lenet5", 1);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 28, 28] }).Discover(model);
        var kept = graph.Groups.Select(g => (IReadOnlyList<bool>)Enumerable.Repeat(g.Index != 1, g.ChannelCount).ToArray()).ToArray();
        var act = () => new ChannelMask(graph, kept);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "kept" && e.Message.Contains("conv1.output"));
    }

    [Fact]
    public void RemovingAFixedChannelIsRejected()
    {
        using var model = TestModels.Create("lenet5", 1);
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 1, 28, 28] }).Discover(model);
        var kept = graph.Groups.Select(g => (IReadOnlyList<bool>)Enumerable.Range(0, g.ChannelCount).Select(j => !(g.Index == 5 && j == 0)).ToArray()).ToArray();
        var act = () => new ChannelMask(graph, kept);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "kept" && e.Message.Contains("fc3.output") && e.Message.Contains("not removable"));
    }

    [Fact]
    public void UnsupportedModuleIsNamed()
    {
        using var model = new WithLayerNorm();
        var act = () => new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 4] }).Discover(model);
        act.Should().Throw<NotSupportedException>().Where(e => e.Message.Contains("'norm'") && e.Message.Contains("LayerNorm"));
    }

    [Fact]
    public void SharedModuleIsNamed()
    {
        using var model = new SharedLinear();
        var act = () => new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [1, 4] }).Discover(model);
        act.Should().Throw<NotSupportedException>().Where(e => e.Message.Contains("'shared'") && e.Message.Contains("2 times"));
    }

    [Fact]
    public void OptionsOutOfRangeNameTheOption()
    {
        var act = () => new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { ProbeBatchSize = 0 });
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "ProbeBatchSize");
        var act2 = () => new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = [2, 3, 8, 8] });
        act2.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "InputShape");
    }

    private sealed class WithLayerNorm : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc1 = nn.Linear(4, 6);
        private readonly LayerNorm norm = nn.LayerNorm(6);
        private readonly Linear fc2 = nn.Linear(6, 2);

        internal WithLayerNorm() : base(nameof(WithLayerNorm)) => RegisterComponents();

        public override Tensor forward(Tensor input) => fc2.call(norm.call(fc1.call(input)));
    }

    private sealed class SharedLinear : nn.Module<Tensor, Tensor>
    {
        private readonly Linear shared = nn.Linear(4, 4);
        private readonly Linear head = nn.Linear(4, 2);

        internal SharedLinear() : base(nameof(SharedLinear)) => RegisterComponents();

        public override Tensor forward(Tensor input) => head.call(shared.call(shared.call(input).relu()));
    }
}
