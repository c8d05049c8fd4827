using System.Buffers.Binary;
using System.Text;
using Sparsity.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests;

/// <summary>Each reader and entry point throws its one documented exception type, naming the file, layer or argument.</summary>
[Collection(SequentialCollection.Name)]
public sealed class ReaderExceptionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sparsity-readers-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string WriteRaw(string name, string header, int dataBytes)
    {
        var path = Path.Combine(_root, name);
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("{\"a\\ud800_mask\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}")]
    [InlineData("{\"__metadata__\":{\"k\\udfff\":\"v\"},\"a_mask\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}")]
    [InlineData("{\"__metadata__\":{\"k\":\"v\\ud800\"},\"a_mask\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}")]
    public void ALoneSurrogateInANameOrMetadataIsAFormatErrorNamingTheFile(string header)
    {
        var path = WriteRaw("surrogate.safetensors", header, 1);
        var open = () => SafeTensorsReader.Open(path).Dispose();
        open.Should().Throw<SparsityFormatException>().Which.FilePath.Should().Be(path);
        var load = () => MaskSet.Load(path).Dispose();
        load.Should().Throw<SparsityFormatException>().WithMessage($"{path}*");
    }

    [Fact]
    public void AMaskWithABlankParameterNameIsAFormatErrorNamingTheFile()
    {
        var path = WriteRaw("blank.safetensors", "{\" _mask\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
        var load = () => MaskSet.Load(path).Dispose();
        load.Should().Throw<SparsityFormatException>().WithMessage($"{path}*' _mask'*blank*");
    }

    [Fact]
    public void AMaskFileWithSparsityMetadataButNoChecksumIsRejectedAndForeignFilesAreRead()
    {
        using var m = tensor(new[] { true, false, true });
        string Write(string name, Dictionary<string, string>? metadata)
        {
            var path = Path.Combine(_root, name);
            SafeTensorsWriter.Write(path, [KeyValuePair.Create("fc.weight_mask", m)], metadata);
            return path;
        }

        var stripped = Write("stripped.safetensors", new() { ["format"] = "sparsity.maskset", ["format_version"] = "2" });
        var load = () => MaskSet.Load(stripped).Dispose();
        load.Should().Throw<SparsityFormatException>().WithMessage($"{stripped}*no checksum*");
        var renamed = Write("renamed.safetensors", new() { ["format"] = "sparsity.maskqet", ["sparsity.s`a256"] = "00" });
        load = () => MaskSet.Load(renamed).Dispose();
        load.Should().Throw<SparsityFormatException>().WithMessage("*no checksum*");

        foreach (var metadata in new Dictionary<string, string>?[] { null, new() { ["format"] = "pt" }, new() { ["format"] = "sparsity.maskset", ["format_version"] = "1" } })
        {
            using var read = MaskSet.Load(Write("ok.safetensors", metadata));
            read.KeptCount.Should().Be(2);
        }
    }

    [Fact]
    public void AZeroSizeLayerIsNamedInTheError()
    {
        using var model = nn.Sequential(("fc1", nn.Linear(784, 0)), ("fc2", nn.Linear(3, 2)));
        var parameters = new ParameterSelector().Select(model);
        var act = () => new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone().DetachFromDisposeScope())).ToList());
        act.Should().Throw<ArgumentException>().WithParameterName("scores").WithMessage("*'fc1.weight'*zero-size*[0, 784]*");
    }

    [Fact]
    public void AModelWithoutPrunableLayersIsNamedAsTheModelOrTheParameters()
    {
        using var model = nn.Sequential(("bn", nn.BatchNorm1d(4)), ("relu", nn.ReLU()));
        var select = () => new ParameterSelector().Select(model);
        select.Should().Throw<ArgumentException>().WithParameterName("model");
        var dense = () => MaskSet.Dense([]);
        dense.Should().Throw<ArgumentException>().WithParameterName("parameters").WithMessage("*No prunable parameter*");
        var empty = () => new MaskSet([]);
        empty.Should().Throw<ArgumentException>().WithParameterName("masks").WithMessage("*ParameterSelector*");
        var noScores = () => new ScoreSet([]);
        noScores.Should().Throw<ArgumentException>().WithParameterName("scores");
    }

    [Fact]
    public void SetMasksWithAnUnknownNameThrowsTheDocumentedArgumentExceptionNamingIt()
    {
        manual_seed(1);
        using var model = nn.Sequential(("fc1", nn.Linear(3, 2)), ("fc2", nn.Linear(2, 2)));
        var parameters = new ParameterSelector().Select(model);
        using var masks = MaskSet.Dense(parameters);
        using var masked = MaskedModel.Attach(model, masks, parameters);
        using var foreign = new MaskSet([KeyValuePair.Create("fc9.weight", ones(new long[] { 2, 2 }, ScalarType.Bool))]);
        var act = () => masked.SetMasks(foreign);
        act.Should().Throw<ArgumentException>().WithParameterName("masks").WithMessage("*'fc9.weight'*fc1.weight*");
    }

    [Fact]
    public void NonFiniteScoresAreRejectedNamingTheParameter()
    {
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity })
        {
            var act = () => new ScoreSet([KeyValuePair.Create("fc1.weight", tensor(new[] { 1f, bad, 2f }))]);
            act.Should().Throw<ArgumentException>().WithParameterName("scores").WithMessage("*'fc1.weight'*");
        }

        // −∞ is the documented "never keep" marker of iterative pruning.
        using var marker = new ScoreSet([KeyValuePair.Create("fc1.weight", tensor(new[] { 1f, float.NegativeInfinity }))]);
        marker.LayerCount.Should().Be(1);
    }
}
