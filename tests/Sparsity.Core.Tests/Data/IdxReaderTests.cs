using System.Buffers.Binary;
using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Tests.Data;

public sealed class IdxReaderTests
{
    private static IdxArray Read(byte[] bytes, string source = "fixture") => IdxReader.Read(new MemoryStream(bytes), source);

    [Fact]
    public void ReadsRawAndGzipImageBytesInRowMajorOrder()
    {
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 7)).ToArray();
        var raw = IdxBytes.Raw([2, 3, 4], data);
        // Hand check of the fixture's header: 00 00 08 03, then 00 00 00 02, 00 00 00 03, 00 00 00 04.
        raw[..16].Should().Equal(0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4);
        foreach (var bytes in new[] { raw, IdxBytes.Gzip(raw) })
        {
            var idx = Read(bytes);
            idx.Shape.Should().Equal(2L, 3L, 4L);
            idx.Count.Should().Be(2);
            idx.Data.Should().Equal(data);
            using var images = IdxReader.ToImages(idx, "fixture");
            images.dtype.Should().Be(ScalarType.Byte);
            images.shape.Should().Equal(2L, 3L, 4L);
            images[1, 2, 3].item<byte>().Should().Be(data[12 + 8 + 3]);
        }
    }

    [Fact]
    public void ReadsLabelsAsInt64AndChecksTheirRange()
    {
        var labels = IdxBytes.Raw([5], [3, 0, 9, 1, 9]);
        using var t = IdxReader.ToLabels(Read(labels), 10, "fixture");
        t.dtype.Should().Be(ScalarType.Int64);
        t.data<long>().ToArray().Should().Equal(3L, 0L, 9L, 1L, 9L);

        var act = () => IdxReader.ToLabels(Read(IdxBytes.Raw([3], [1, 10, 2])), 10, "labels.idx");
        act.Should().Throw<SparsityFormatException>().WithMessage("labels.idx: label 10 at index 1 is outside [0, 10).");
    }

    [Fact]
    public void ReadsFilesFromDiskByPathRawOrGzipWhateverTheName()
    {
        var folder = Directory.CreateTempSubdirectory("sparsity-idx-").FullName;
        try
        {
            var images = IdxBytes.Raw([1, 2, 2], [1, 2, 3, 4]);
            File.WriteAllBytes(Path.Combine(folder, "a"), IdxBytes.Gzip(images));
            File.WriteAllBytes(Path.Combine(folder, "b.gz"), images);
            File.WriteAllBytes(Path.Combine(folder, "labels"), IdxBytes.Raw([2], [0, 1]));
            using var a = IdxReader.ReadImages(Path.Combine(folder, "a"));
            using var b = IdxReader.ReadImages(Path.Combine(folder, "b.gz"));
            TestModels.Same(a, b).Should().BeTrue();
            using var l = IdxReader.ReadLabels(Path.Combine(folder, "labels"), 2);
            l.shape.Should().Equal(2L);
            var missing = () => IdxReader.Read(Path.Combine(folder, "nope"));
            missing.Should().Throw<FileNotFoundException>();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static TheoryData<string, byte[], string> Corrupt()
    {
        var good = IdxBytes.Raw([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
        byte[] With(Action<byte[]> edit) { var b = (byte[])good.Clone(); edit(b); return b; }
        return new TheoryData<string, byte[], string>
        {
            { "empty", [], "*0 bytes*4-byte magic*" },
            { "short magic", [0, 0, 8], "*3 bytes*" },
            { "bad magic", With(b => b[0] = 0x1A), "*magic number 1A 00 08 03 is not IDX*" },
            { "float type", With(b => b[2] = 0x0D), "*0x0D (float32) is not supported*" },
            { "zero dims", With(b => b[3] = 0), "*0 dimensions*" },
            { "too many dims", With(b => b[3] = 9), "*9 dimensions*" },
            { "truncated sizes", good[..9], "*header is truncated*" },
            { "truncated data", good[..^1], "*claim 8 bytes of data but the file has 7*" },
            { "trailing data", [.. good, 0], "*claim 8 bytes of data but the file has 9*" },
            { "size too large", With(b => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 3)), "*claim 12 bytes*" },
            { "huge sizes", With(b => { BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), uint.MaxValue); BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), uint.MaxValue); }), "*claim more than*" },
            { "gzip truncated", IdxBytes.Gzip(good)[..20], "*" },
            { "gzip data truncated", IdxBytes.Gzip(good[..^2]), "*data is truncated*claim 8 bytes*ends after 6*" },
            { "gzip trailing", IdxBytes.Gzip([.. good, 7]), "*bytes after the 8 bytes*" },
            { "gzip garbage", [0x1F, 0x8B, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], "*" },
        };
    }

    [Theory]
    [MemberData(nameof(Corrupt))]
    public void CorruptInputThrowsTheFormatExceptionNamingTheSource(string name, byte[] bytes, string pattern)
    {
        var act = () => Read(bytes, "bad/file.idx");
        act.Should().Throw<SparsityFormatException>(name)
            .WithMessage("bad/file.idx: " + pattern)
            .Which.FilePath.Should().Be("bad/file.idx");
    }

    [Fact]
    public void ImageAndLabelShapesAreChecked()
    {
        var twoDims = Read(IdxBytes.Raw([2, 2], [1, 2, 3, 4]));
        var act = () => IdxReader.ToImages(twoDims, "x");
        act.Should().Throw<SparsityFormatException>().WithMessage("x: an image file has 3 dimensions*has 2 (2×2)*");
        var emptyImages = Read(IdxBytes.Raw([0, 28, 28], []));
        act = () => IdxReader.ToImages(emptyImages, "x");
        act.Should().Throw<SparsityFormatException>().WithMessage("*empty*");
        var act2 = () => IdxReader.ToLabels(twoDims, 10, "y");
        act2.Should().Throw<SparsityFormatException>().WithMessage("y: a label file has 1 dimension*");
        act2 = () => IdxReader.ToLabels(Read(IdxBytes.Raw([0], [])), 10, "y");
        act2.Should().Throw<SparsityFormatException>().WithMessage("*empty*");
    }

    [Fact]
    public void NonSeekableStreamsAreRead()
    {
        var raw = IdxBytes.Raw([3], [0, 1, 2]);
        using var pipe = new NonSeekable(IdxBytes.Gzip(raw));
        IdxReader.Read(pipe, "pipe").Data.Should().Equal(0, 1, 2);
    }

    private sealed class NonSeekable(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
