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

    private static nn.Module<Tensor, Tensor> ConvBn(ScalarType? dtype = null) =>
        nn.Sequential(("conv", nn.Conv2d(1, 2, 3, dtype: dtype)), ("bn", nn.BatchNorm2d(2, dtype: dtype)));

    private string SaveConvBn(Action<nn.Module> set, ScalarType? dtype = null)
    {
        var path = Path.Combine(_folder, $"convbn-{Guid.NewGuid():N}.safetensors");
        using var source = ConvBn(dtype);
        TestModels.FillDistinct(source);
        using (no_grad())
        {
            set(source);
        }

        StateDict.Save(source, path);
        return path;
    }

    [Fact]
    public void Float64ModelLoadsAnInt64BatchCounter()
    {
        // A PyTorch-style checkpoint: float32 weights, int64 num_batches_tracked.
        var path = SaveConvBn(m => m.get_buffer("bn.num_batches_tracked")!.fill_(12345L));
        using (var reader = Sparsity.IO.SafeTensorsReader.Open(path))
        {
            reader.Info("bn.num_batches_tracked").DType.Should().Be(Sparsity.IO.SafeTensorsDType.I64);
        }

        using var model = ConvBn(ScalarType.Float64);
        model.get_buffer("bn.num_batches_tracked")!.dtype.Should().Be(ScalarType.Float64, "TorchSharp's BatchNorm2d(dtype: Float64) makes a float64 counter");
        var result = StateDict.Load(model, path);
        result.IsExact.Should().BeTrue();
        model.get_buffer("bn.num_batches_tracked")!.item<double>().Should().Be(12345.0);
        using var source = ConvBn();
        StateDict.Load(source, path);
        foreach (var (key, value) in source.state_dict())
        {
            using var widened = value.to(ScalarType.Float64);
            TestModels.Same(model.state_dict()[key], widened).Should().BeTrue(key);
        }
    }

    [Fact]
    public void ModuleToFloat64KeepsTheCounterInt64()
    {
        // What TorchSharp 0.107 does (docs/criteria.md relies on it): Module.to(float64) casts floating tensors only.
        using var model = ConvBn();
        model.to(ScalarType.Float64);
        model.get_buffer("bn.num_batches_tracked")!.dtype.Should().Be(ScalarType.Int64);
        model.get_buffer("bn.running_mean")!.dtype.Should().Be(ScalarType.Float64);
    }

    [Fact]
    public void CounterThatFloat64CannotHoldIsRefusedAndNothingIsLoaded()
    {
        long big = (1L << 53) + 1; // the first integer float64 rounds
        var path = SaveConvBn(m => m.get_buffer("bn.num_batches_tracked")!.fill_(big));
        using var model = ConvBn(ScalarType.Float64);
        using var before = model.get_parameter("conv.weight")!.clone();
        var act = () => StateDict.Load(model, path);
        act.Should().Throw<ArgumentException>().WithMessage("*bn.num_batches_tracked (file I64 values are not exactly representable in the model's Float64)*");
        TestModels.Same(model.get_parameter("conv.weight")!, before).Should().BeTrue("a strict load that fails writes nothing");
        model.get_buffer("bn.num_batches_tracked")!.item<double>().Should().Be(0.0);
    }

    [Fact]
    public void Float64CounterLoadsBackIntoAnInt64CounterOnlyWhenIntegral()
    {
        var whole = SaveConvBn(m => m.get_buffer("bn.num_batches_tracked")!.fill_(7.0), ScalarType.Float64);
        using var model = ConvBn();
        StateDict.Load(model, whole).IsExact.Should().BeTrue();
        model.get_buffer("bn.num_batches_tracked")!.item<long>().Should().Be(7L);

        var fractional = SaveConvBn(m => m.get_buffer("bn.num_batches_tracked")!.fill_(7.5), ScalarType.Float64);
        using var other = ConvBn();
        var result = StateDict.Load(other, fractional, strict: false);
        result.Mismatched.Should().ContainSingle().Which.Should().StartWith("bn.num_batches_tracked (file F64 values are not exactly representable");
        other.get_buffer("bn.num_batches_tracked")!.item<long>().Should().Be(0L);
    }
}
