using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace Sparsity.Data;

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., "The MNIST database",
/// <c>http://yann.lecun.com/exdb/mnist/</c>): a 4-byte magic <c>00 00 TT NN</c> (TT the element type,
/// NN the number of dimensions), NN big-endian unsigned 32-bit sizes, then the elements row-major.
/// Files may be raw or gzip-compressed (recognised by the gzip magic <c>1F 8B</c>, whatever the name).
/// </summary>
/// <remarks>
/// Only unsigned-byte files (type 0x08, what every MNIST-family image and label file uses) are read.
/// Everything is validated before use: the magic, the element type, 1 ≤ NN ≤ <see cref="MaxDimensions"/>,
/// the sizes' product against the bytes actually present (no trailing or missing bytes), the gzip stream,
/// and, for labels, the range. Allocation grows with the bytes actually read, so a forged size cannot
/// make the reader allocate more than the (decompressed) file holds. Any fault in the content raises
/// <see cref="SparsityFormatException"/> naming the file.
/// </remarks>
public static class IdxReader
{
    /// <summary>The largest number of dimensions accepted.</summary>
    public const int MaxDimensions = 8;

    /// <summary>The element-type byte of unsigned-byte IDX files.</summary>
    public const byte UnsignedByteType = 0x08;

    /// <summary>Reads and validates an IDX file (raw or <c>.gz</c>).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The dimensions and bytes.</returns>
    /// <exception cref="SparsityFormatException">The content is corrupt, truncated or not an unsigned-byte IDX file.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads and validates IDX content from a stream (raw or gzip), which is read to its end and not disposed.</summary>
    /// <param name="stream">The content.</param>
    /// <param name="source">A description of the stream (file name or resource) used in error messages.</param>
    /// <returns>The dimensions and bytes.</returns>
    /// <exception cref="SparsityFormatException">The content is corrupt, truncated or not an unsigned-byte IDX file.</exception>
    public static IdxArray Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }

        long start = stream.Position;
        Span<byte> probe = stackalloc byte[2];
        int got = ReadUpTo(stream, probe, source);
        stream.Position = start;
        bool gzip = got == 2 && probe[0] == 0x1F && probe[1] == 0x8B;
        if (!gzip)
        {
            return ReadPayload(stream, source, stream.Length - start);
        }

        try
        {
            using var inflated = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
            return ReadPayload(inflated, source, knownLength: null);
        }
        catch (InvalidDataException e)
        {
            throw new SparsityFormatException(source, $"the gzip stream is corrupt ({e.Message}).", e);
        }
    }

    /// <summary>Reads an image file: three dimensions N×rows×columns, N ≥ 1.</summary>
    /// <param name="path">The file (for example <c>train-images-idx3-ubyte.gz</c>).</param>
    /// <returns>A uint8 tensor N×rows×columns on the CPU (owned by the caller).</returns>
    /// <exception cref="SparsityFormatException">The file is corrupt or not three-dimensional.</exception>
    public static Tensor ReadImages(string path) => ToImages(Read(path), path);

    /// <summary>Reads a label file: one dimension N ≥ 1, every label in [0, <paramref name="classCount"/>).</summary>
    /// <param name="path">The file (for example <c>train-labels-idx1-ubyte.gz</c>).</param>
    /// <param name="classCount">Number of classes (2..256).</param>
    /// <returns>An int64 tensor of length N on the CPU (owned by the caller).</returns>
    /// <exception cref="SparsityFormatException">The file is corrupt, not one-dimensional, or a label is out of range.</exception>
    public static Tensor ReadLabels(string path, int classCount) => ToLabels(Read(path), classCount, path);

    /// <summary>Checks that <paramref name="idx"/> holds images (N×rows×columns, all ≥ 1) and makes a uint8 tensor.</summary>
    internal static Tensor ToImages(IdxArray idx, string source)
    {
        if (idx.Shape.Count != 3)
        {
            throw new SparsityFormatException(source, $"an image file has 3 dimensions (N×rows×columns); this one has {idx.Shape.Count} ({string.Join("×", idx.Shape)}).");
        }

        if (idx.Shape.Any(d => d == 0))
        {
            throw new SparsityFormatException(source, $"the image file is empty ({string.Join("×", idx.Shape)}).");
        }

        return tensor(idx.Data, idx.Shape.ToArray(), ScalarType.Byte);
    }

    /// <summary>Checks that <paramref name="idx"/> holds labels (N ≥ 1, values below the class count) and makes an int64 tensor.</summary>
    internal static Tensor ToLabels(IdxArray idx, int classCount, string source)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classCount, 256);
        if (idx.Shape.Count != 1)
        {
            throw new SparsityFormatException(source, $"a label file has 1 dimension; this one has {idx.Shape.Count} ({string.Join("×", idx.Shape)}).");
        }

        if (idx.Count == 0)
        {
            throw new SparsityFormatException(source, "the label file is empty.");
        }

        for (int i = 0; i < idx.Data.Length; i++)
        {
            if (idx.Data[i] >= classCount)
            {
                throw new SparsityFormatException(source, $"label {idx.Data[i]} at index {i} is outside [0, {classCount}).");
            }
        }

        using var bytes = tensor(idx.Data, ScalarType.Byte);
        return bytes.to(ScalarType.Int64);
    }

    private static IdxArray ReadPayload(Stream stream, string source, long? knownLength)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = ReadUpTo(stream, magic, source);
        if (got < 4)
        {
            throw new SparsityFormatException(source, $"the file has {got} bytes; an IDX file starts with a 4-byte magic number.");
        }

        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new SparsityFormatException(source,
                $"the magic number {magic[0]:X2} {magic[1]:X2} {magic[2]:X2} {magic[3]:X2} is not IDX (expected 00 00 08 NN).");
        }

        if (magic[2] != UnsignedByteType)
        {
            var name = magic[2] switch
            {
                0x09 => "signed byte",
                0x0B => "int16",
                0x0C => "int32",
                0x0D => "float32",
                0x0E => "float64",
                _ => "unknown",
            };
            throw new SparsityFormatException(source, $"element type 0x{magic[2]:X2} ({name}) is not supported; only unsigned bytes (0x08) are read.");
        }

        int ndim = magic[3];
        if (ndim is < 1 or > MaxDimensions)
        {
            throw new SparsityFormatException(source, $"the magic number declares {ndim} dimensions; 1 to {MaxDimensions} are allowed.");
        }

        var sizeBytes = new byte[4 * ndim];
        got = ReadUpTo(stream, sizeBytes, source);
        if (got < sizeBytes.Length)
        {
            throw new SparsityFormatException(source, $"the header is truncated: {ndim} dimension sizes need {4 * ndim} bytes, found {got}.");
        }

        var shape = new long[ndim];
        long total = 1;
        for (int i = 0; i < ndim; i++)
        {
            shape[i] = BinaryPrimitives.ReadUInt32BigEndian(sizeBytes.AsSpan(4 * i));
            total = total == 0 || shape[i] == 0 ? 0 : total <= Array.MaxLength / shape[i] ? total * shape[i] : long.MaxValue;
        }

        if (total > Array.MaxLength)
        {
            throw new SparsityFormatException(source, $"the sizes {string.Join("×", shape)} claim more than {Array.MaxLength} bytes of data.");
        }

        long headerBytes = 4 + 4L * ndim;
        if (knownLength is { } length && length - headerBytes != total)
        {
            throw new SparsityFormatException(source,
                $"the sizes {string.Join("×", shape)} claim {total} bytes of data but the file has {length - headerBytes} after the {headerBytes}-byte header.");
        }

        var data = new byte[Math.Min(total, 1 << 20)];
        long filled = 0;
        while (filled < total)
        {
            if (filled == data.Length)
            {
                Array.Resize(ref data, (int)Math.Min(total, 2L * data.Length));
            }

            int n = ReadUpTo(stream, data.AsSpan((int)filled, (int)(data.Length - filled)), source);
            if (n == 0)
            {
                throw new SparsityFormatException(source,
                    $"the data is truncated: the sizes {string.Join("×", shape)} claim {total} bytes, the file ends after {filled}.");
            }

            filled += n;
        }

        Span<byte> extra = stackalloc byte[1];
        if (ReadUpTo(stream, extra, source) != 0)
        {
            throw new SparsityFormatException(source, $"the file has bytes after the {total} bytes of data that the sizes {string.Join("×", shape)} claim.");
        }

        return new IdxArray(shape, data);
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    private static int ReadUpTo(Stream stream, Span<byte> buffer, string source)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int n = stream.Read(buffer[total..]);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new SparsityFormatException(source, $"the gzip stream is corrupt ({e.Message}).", e);
        }

        return total;
    }
}
