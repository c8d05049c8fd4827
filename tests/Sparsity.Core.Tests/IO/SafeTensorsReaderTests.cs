using System.Buffers.Binary;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Tests.IO;

public sealed class SafeTensorsReaderTests
{
    private static SafeTensorsReader Open(byte[] bytes) => SafeTensorsReader.Open(new MemoryStream(bytes), "test.safetensors");

    private static void ShouldReject(byte[] bytes, string messagePattern)
    {
        var act = () =>
        {
            using var reader = Open(bytes);
            foreach (var t in reader.Tensors)
            {
                reader.ReadTensor(t.Name).Dispose();
            }
        };
        act.Should().Throw<SparsityFormatException>().WithMessage(messagePattern);
    }

    [Fact]
    public void ReadsHandComposedFile()
    {
        using var reader = Open(SafeTensorsBytes.Sample());
        reader.Metadata.Should().Equal(new Dictionary<string, string> { ["format"] = "pt" });
        reader.Tensors.Select(t => t.Name).Should().Equal("w", "n", "m");
        reader.Info("w").Should().BeEquivalentTo(new SafeTensorInfo("w", SafeTensorsDType.F32, [2, 2], 0, 16));
        using var w = reader.ReadTensor("w");
        w.shape.Should().Equal(2L, 2L);
        w.flatten().data<float>().ToArray().Should().Equal(1f, -2f, 0.5f, float.PositiveInfinity);
        using var n = reader.ReadTensor("n");
        n.data<long>().ToArray().Should().Equal(7L, -8L, long.MaxValue);
        using var m = reader.ReadTensor("m");
        m.dtype.Should().Be(ScalarType.Bool);
        m.data<bool>().ToArray().Should().Equal(true, false);
    }

    [Fact]
    public void ReadsHalfAndBFloat16BitPatterns()
    {
        // F16 0x3C00 = 1.0, 0xC000 = −2.0; BF16 0x3F80 = 1.0, 0x4049 ≈ 3.140625.
        var data = new byte[] { 0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F, 0x49, 0x40 };
        var file = SafeTensorsBytes.Compose("""{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}""", data);
        using var reader = Open(file);
        using var h = reader.ReadTensor("h");
        using var hf = h.to(ScalarType.Float32);
        hf.data<float>().ToArray().Should().Equal(1f, -2f);
        using var b = reader.ReadTensor("b");
        using var bf = b.to(ScalarType.Float32);
        bf.data<float>().ToArray().Should().Equal(1f, 3.140625f);
    }

    [Fact]
    public void UnknownNameListsTheFilesNames()
    {
        using var reader = Open(SafeTensorsBytes.Sample());
        var act = () => reader.Info("x");
        act.Should().Throw<KeyNotFoundException>().WithMessage("*'x'*w, n, m*");
    }

    [Fact]
    public void FileShorterThanThePrefixIsRejected() => ShouldReject([1, 2, 3], "*8-byte header length*");

    [Fact]
    public void HeaderLengthPastTheEndIsRejected()
    {
        var file = SafeTensorsBytes.Sample();
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)file.Length);
        ShouldReject(file, "*header claims*");
    }

    [Fact]
    public void TenGigabyteHeaderClaimIsRejectedWithoutAllocating()
    {
        var file = new byte[100];
        BinaryPrimitives.WriteUInt64LittleEndian(file, 10_000_000_000UL);
        long before = GC.GetAllocatedBytesForCurrentThread();
        ShouldReject(file, "*10000000000 bytes*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1_000_000);
    }

    [Fact]
    public void ZeroHeaderLengthIsRejected()
    {
        var file = new byte[16];
        ShouldReject(file, "*header claims 0*");
    }

    [Fact]
    public void InvalidJsonIsRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("{\"w\": [", new byte[4]), "*not valid UTF-8 JSON*");

    [Fact]
    public void NonObjectHeaderIsRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("[1,2]", []), "*must be a JSON object*");

    [Fact]
    public void DuplicateKeysAreRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", new byte[2]),
            "*'a' twice*");

    [Fact]
    public void UnknownDtypeIsRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}""", new byte[8]), "*unsupported dtype 'C64'*");

    [Fact]
    public void DtypeSizeMismatchIsRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", new byte[8]), "*spans 8 bytes*needs 12*");

    [Fact]
    public void OverlappingOffsetsAreRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]),
            "*overlaps*");

    [Fact]
    public void GapBetweenTensorsIsRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}""", new byte[3]),
            "*gap*");

    [Fact]
    public void OffsetsPastTheDataAreRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", new byte[8]), "*cover 16 bytes*holds 8*");

    [Fact]
    public void TrailingBytesAreRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", new byte[5]), "*cover 1 bytes*holds 5*");

    [Fact]
    public void NegativeOrFractionalShapesAreRejected()
    {
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}""", new byte[1]), "*non-negative integers*");
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}""", new byte[1]), "*non-negative integers*");
    }

    [Fact]
    public void OverflowingShapeIsRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", new byte[8]), "*overflows*");

    [Fact]
    public void BoolBytesOtherThanZeroOrOneAreRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}""", [1, 7]), "*other than 0 and 1*");

    [Fact]
    public void NonStringMetadataIsRejected() =>
        ShouldReject(SafeTensorsBytes.Compose("""{"__metadata__":{"epoch":3}}""", []), "*'epoch' is not a string*");

    [Fact]
    public void HeaderPaddedWithSpacesIsAccepted()
    {
        using var reader = Open(SafeTensorsBytes.Compose("""{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}     """, [3, 4]));
        using var a = reader.ReadTensor("a");
        a.data<byte>().ToArray().Should().Equal((byte)3, (byte)4);
    }
}
