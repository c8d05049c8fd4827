using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Tests.IO;

public sealed class MaskSetIoTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sparsity-masks-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void SaveLoadRoundTripsNamesOrderValuesAndMetadata()
    {
        var path = Path.Combine(_folder, "m.safetensors");
        using var masks = new MaskSet([
            KeyValuePair.Create("layer1.0.conv1.weight", tensor(new[] { true, false, true, true }).reshape(2, 2)),
            KeyValuePair.Create("fc.weight", tensor(new[] { false, true, false })),
        ]);
        masks.Save(path, new Dictionary<string, string> { ["criterion"] = "magnitude" });

        using (var reader = SafeTensorsReader.Open(path))
        {
            reader.Tensors.Select(t => t.Name).Should().Equal("layer1.0.conv1.weight_mask", "fc.weight_mask");
            reader.Tensors.Should().OnlyContain(t => t.DType == SafeTensorsDType.Bool);
            reader.Metadata.Should().Contain("format", "sparsity.maskset").And.Contain("criterion", "magnitude");
        }

        using var loaded = MaskSet.Load(path);
        loaded.Names.Should().Equal(masks.Names);
        loaded.Should().Be(masks);
    }

    [Fact]
    public void UInt8MasksFromPyTorchAreAccepted()
    {
        var path = Path.Combine(_folder, "u8.safetensors");
        File.WriteAllBytes(path, SafeTensorsBytes.Compose("""{"fc1.weight_mask":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"fc1.weight":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}}""", [1, 0, 1, 9]));
        using var loaded = MaskSet.Load(path);
        loaded.Names.Should().Equal("fc1.weight");
        TestModels.Bits(loaded["fc1.weight"]).Should().Equal(true, false, true);
    }

    [Fact]
    public void UInt8MaskWithOtherValuesIsRejected()
    {
        var path = Path.Combine(_folder, "bad.safetensors");
        File.WriteAllBytes(path, SafeTensorsBytes.Compose("""{"a_mask":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}""", [1, 2]));
        var act = () => MaskSet.Load(path);
        act.Should().Throw<SparsityFormatException>().WithMessage("*other than 0 and 1*");
    }

    [Fact]
    public void FileWithoutMasksIsRejected()
    {
        var path = Path.Combine(_folder, "none.safetensors");
        using var w = ones(2);
        SafeTensorsWriter.Write(path, [KeyValuePair.Create("fc1.weight", w)]);
        var act = () => MaskSet.Load(path);
        act.Should().Throw<SparsityFormatException>().WithMessage("*no '*_mask' tensor*fc1.weight*");
    }

    [Fact]
    public void ReservedMetadataKeysCannotBeOverridden()
    {
        using var masks = new MaskSet([KeyValuePair.Create("a", tensor(new[] { true }))]);
        var act = () => masks.Save(Path.Combine(_folder, "x.safetensors"), new Dictionary<string, string> { ["format"] = "other" });
        act.Should().Throw<ArgumentException>().WithParameterName("metadata");
    }
}
