using Sparsity.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests.IO;

public sealed class StateDictTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sparsity-state-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static nn.Module<Tensor, Tensor> Model(int hidden = 3)
    {
        var model = nn.Sequential(("fc1", nn.Linear(4, hidden)), ("bn", nn.BatchNorm1d(hidden)), ("fc2", nn.Linear(hidden, 2)));
        TestModels.FillDistinct(model);
        return model;
    }

    [Fact]
    public void SaveLoadRoundTripsParametersAndBuffers()
    {
        var path = Path.Combine(_folder, "model.safetensors");
        using var source = Model();
        using (no_grad())
        {
            source.get_buffer("bn.running_mean")!.fill_(0.25f);
            source.get_buffer("bn.running_var")!.fill_(2f);
        }

        StateDict.Save(source, path, new Dictionary<string, string> { ["epoch"] = "7" });
        using var target = Model();
        using (no_grad())
        {
            foreach (var p in target.parameters())
            {
                p.zero_();
            }
        }

        var result = StateDict.Load(target, path);
        result.IsExact.Should().BeTrue();
        result.Loaded.Should().Contain(["fc1.weight", "bn.running_mean", "bn.running_var"]);
        foreach (var (key, value) in source.state_dict())
        {
            TestModels.Same(target.state_dict()[key], value).Should().BeTrue(key);
        }
    }

    [Fact]
    public void StrictLoadNamesEveryBadKeyAndChangesNothing()
    {
        var path = Path.Combine(_folder, "other.safetensors");
        using (var other = nn.Sequential(("fc1", nn.Linear(4, 5)), ("head", nn.Linear(5, 2))))
        {
            StateDict.Save(other, path);
        }

        using var model = Model();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var act = () => StateDict.Load(model, path);
        act.Should().Throw<ArgumentException>().WithParameterName("path")
            .WithMessage("*missing [*bn.weight*fc2.weight*]*unexpected [head.weight, head.bias]*fc1.weight (file [5, 4]*model [3, 4]*");
        foreach (var (key, value) in model.state_dict())
        {
            TestModels.Same(value, before[key]).Should().BeTrue(key);
        }
    }

    [Fact]
    public void NonStrictLoadLoadsTheMatchingKeysAndReportsTheRest()
    {
        var path = Path.Combine(_folder, "partial.safetensors");
        using (var other = nn.Sequential(("fc1", nn.Linear(4, 3)), ("head", nn.Linear(3, 2))))
        {
            TestModels.FillDistinct(other);
            StateDict.Save(other, path);
        }

        using var model = Model();
        var result = StateDict.Load(model, path, strict: false);
        result.Loaded.Should().BeEquivalentTo("fc1.weight", "fc1.bias");
        result.Unexpected.Should().BeEquivalentTo("head.weight", "head.bias");
        result.Missing.Should().Contain("fc2.weight");
        model.get_parameter("fc1.weight")!.data<float>()[0].Should().Be(0.001f);
    }
}
