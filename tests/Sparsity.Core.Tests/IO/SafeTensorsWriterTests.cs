using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Tests.IO;

public sealed class SafeTensorsWriterTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sparsity-io-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    [Fact]
    public void EveryDtypeRoundTripsBitExactly()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = tensor(new[] { 1.5, double.NaN, double.NegativeInfinity, -0.0 }),
            ["f32"] = tensor(new[] { 1.25f, float.NaN, float.PositiveInfinity, -0.0f, float.Epsilon }).reshape(5, 1),
            ["f16"] = tensor(new[] { 1f, -2f, 65504f, 0.0001f }).to(ScalarType.Float16),
            ["bf16"] = tensor(new[] { 1f, 3.140625f, -1e30f }).to(ScalarType.BFloat16),
            ["i64"] = tensor(new[] { long.MinValue, 0L, long.MaxValue }),
            ["i32"] = tensor(new[] { int.MinValue, 1, int.MaxValue }).reshape(1, 3),
            ["u8"] = tensor(new byte[] { 0, 128, 255 }),
            ["bool"] = tensor(new[] { true, false, true }).reshape(3, 1, 1),
            ["scalar"] = tensor(42.0f),
            ["empty"] = zeros(new long[] { 0, 3 }),
            ["naïve ünïcode"] = ones(2),
        };
        var path = PathOf("all.safetensors");
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["epoch"] = "3", ["note"] = "ü \"quoted\"" });

        using var reader = SafeTensorsReader.Open(path);
        reader.Metadata.Should().Equal(new Dictionary<string, string> { ["epoch"] = "3", ["note"] = "ü \"quoted\"" });
        reader.Tensors.Select(t => t.Name).Should().Equal(tensors.Keys);
        foreach (var (name, original) in tensors)
        {
            using var read = reader.ReadTensor(name);
            read.dtype.Should().Be(original.dtype, name);
            read.shape.Should().Equal(original.shape, name);
            read.bytes.ToArray().Should().Equal(original.bytes.ToArray(), name);
        }

        foreach (var t in tensors.Values)
        {
            t.Dispose();
        }
    }

    [Fact]
    public void OutputFollowsTheSpecificationWhenParsedByHand()
    {
        var path = PathOf("hand.safetensors");
        using var a = tensor(new[] { 1f, 2f, 3f });
        using var b = tensor(new long[] { 5 });
        SafeTensorsWriter.Write(path, [KeyValuePair.Create("a", a), KeyValuePair.Create("b", b)]);

        var file = File.ReadAllBytes(path);
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        ((8 + headerLength) % 8).Should().Be(0, "the data section is 8-byte aligned");
        var headerText = Encoding.UTF8.GetString(file, 8, (int)headerLength);
        headerText.TrimEnd(' ').Length.Should().BeGreaterThan(0);
        using var json = JsonDocument.Parse(headerText);
        json.RootElement.TryGetProperty("__metadata__", out _).Should().BeFalse();
        var entryA = json.RootElement.GetProperty("a");
        entryA.GetProperty("dtype").GetString().Should().Be("F32");
        entryA.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).Should().Equal(3L);
        entryA.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).Should().Equal(0L, 12L);
        json.RootElement.GetProperty("b").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).Should().Equal(12L, 20L);

        var data = file.AsSpan((int)(8 + headerLength));
        data.Length.Should().Be(20);
        BinaryPrimitives.ReadSingleLittleEndian(data[4..]).Should().Be(2f);
        BinaryPrimitives.ReadInt64LittleEndian(data[12..]).Should().Be(5);
    }

    [Fact]
    public void FailedWriteLeavesTheOldFileIntactAndNoTempFile()
    {
        var path = PathOf("keep.safetensors");
        using var good = ones(2);
        SafeTensorsWriter.Write(path, [KeyValuePair.Create("x", good)]);
        var before = File.ReadAllBytes(path);

        using var complex = ones(2).to(ScalarType.ComplexFloat32);
        var act = () => SafeTensorsWriter.Write(path, [KeyValuePair.Create("x", good), KeyValuePair.Create("c", complex)]);
        act.Should().Throw<ArgumentException>().WithParameterName("tensors").WithMessage("*'c'*ComplexFloat32*");

        File.ReadAllBytes(path).Should().Equal(before);
        Directory.GetFiles(_folder).Should().Equal(path);
    }

    [Fact]
    public void DuplicateAndReservedNamesAreRejected()
    {
        using var t = ones(1);
        var dup = () => SafeTensorsWriter.Write(PathOf("d.safetensors"), [KeyValuePair.Create("x", t), KeyValuePair.Create("x", t)]);
        dup.Should().Throw<ArgumentException>().WithMessage("*'x' appears twice*");
        var reserved = () => SafeTensorsWriter.Write(PathOf("r.safetensors"), [KeyValuePair.Create("__metadata__", t)]);
        reserved.Should().Throw<ArgumentException>().WithMessage("*reserved*");
        File.Exists(PathOf("d.safetensors")).Should().BeFalse();
    }
}
