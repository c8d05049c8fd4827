using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Sparsity.IO;

/// <summary>
/// Reads safetensors files (the format of Hugging Face's <c>safetensors</c> library): an 8-byte
/// little-endian header length, a JSON header, then the tensors' bytes. No third-party dependency.
/// </summary>
/// <remarks>
/// <see cref="Open(string)"/> validates the whole header before anything else is read: header length
/// (at most 100 MB and within the file), JSON syntax, unique names, dtypes, shapes, and offsets that tile
/// the data section exactly (in range, contiguous, non-overlapping, matching shape × dtype size). Tensors
/// are then read one at a time, so no allocation exceeds what the file holds. A file that carries a content
/// checksum (<see cref="ChecksumKey"/>) is verified on open. Any fault in the file's content raises
/// <see cref="SparsityFormatException"/>.
/// </remarks>
public sealed class SafeTensorsReader : IDisposable
{
    private readonly Stream _stream;
    private readonly string _source;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    private SafeTensorsReader(Stream stream, string source, long dataStart, IReadOnlyList<SafeTensorInfo> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        _stream = stream;
        _source = source;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Metadata key of the content checksum written by <see cref="SafeTensorsWriter.WriteWithChecksum"/>.</summary>
    public const string ChecksumKey = "sparsity.sha256";

    /// <summary>The header's <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor entries, in data-offset order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>Opens and validates a safetensors file.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="SparsityFormatException">The file is truncated, corrupt or not safetensors.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static SafeTensorsReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            return Open(stream, path);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads from a seekable stream (owned by the reader from now on).</summary>
    internal static SafeTensorsReader Open(Stream stream, string source)
    {
        long length = stream.Length;
        if (length < 8)
        {
            throw new SparsityFormatException(source, $"the file has {length} bytes; a safetensors file starts with an 8-byte header length.");
        }

        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength == 0 || headerLength > (ulong)(length - 8) || headerLength > SafeTensorsHeader.MaxHeaderBytes)
        {
            throw new SparsityFormatException(source,
                $"the header claims {headerLength} bytes but the file has {length - 8} after the length prefix (limit {SafeTensorsHeader.MaxHeaderBytes}).");
        }

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        var (tensors, metadata) = SafeTensorsHeader.Parse(header, length - dataStart, source);
        var reader = new SafeTensorsReader(stream, source, dataStart, tensors, metadata);
        if (reader.HasChecksum)
        {
            // A file that carries a checksum is verified whatever reads it (also when a corrupted format entry
            // would make a format-specific reader skip its own check).
            reader.VerifyChecksum();
        }

        return reader;
    }

    /// <summary>Whether the metadata holds a content checksum (<see cref="ChecksumKey"/>).</summary>
    public bool HasChecksum => Metadata.ContainsKey(ChecksumKey);

    /// <summary>
    /// Recomputes the content checksum (SHA-256 of the header description and the whole data section, as
    /// <see cref="SafeTensorsWriter.WriteWithChecksum"/> wrote it) and compares it with the stored one.
    /// </summary>
    /// <exception cref="SparsityFormatException">No checksum is stored, or the content does not match it.</exception>
    public void VerifyChecksum()
    {
        if (!Metadata.TryGetValue(ChecksumKey, out var stored))
        {
            throw new SparsityFormatException(_source, $"the metadata has no '{ChecksumKey}' checksum; the file was not written by this version or was edited.");
        }

        using var hash = SafeTensorsChecksum.Begin(Tensors, Metadata);
        var buffer = new byte[1 << 16];
        long remaining = _stream.Length - _dataStart;
        _stream.Position = _dataStart;
        while (remaining > 0)
        {
            int n = _stream.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (n <= 0)
            {
                throw new SparsityFormatException(_source, "the data section is cut off while verifying the checksum.");
            }

            hash.AppendData(buffer, 0, n);
            remaining -= n;
        }

        if (!string.Equals(SafeTensorsChecksum.Finish(hash), stored, StringComparison.Ordinal))
        {
            throw new SparsityFormatException(_source, "the content does not match its SHA-256 checksum (the file was corrupted or edited).");
        }
    }

    /// <summary>Path of the previous generation of a checkpoint file: <c>path + ".prev"</c>.</summary>
    /// <param name="path">The checkpoint file.</param>
    public static string PreviousGenerationPath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return path + AtomicFile.PreviousSuffix;
    }

    /// <summary>
    /// Reads a checkpoint with <paramref name="read"/>, falling back to its previous generation
    /// (<see cref="PreviousGenerationPath"/>) when the newest is missing (a write was killed between its two
    /// renames) or raises <see cref="SparsityFormatException"/> (truncated or corrupt). The fallback is logged
    /// as a warning. Other exceptions (wrong model, other options) propagate unchanged.
    /// </summary>
    /// <typeparam name="T">What <paramref name="read"/> returns.</typeparam>
    /// <param name="path">The newest generation.</param>
    /// <param name="read">Reads and validates one file (given its path).</param>
    /// <param name="logger">Receives the fallback warning; none when null.</param>
    /// <exception cref="SparsityFormatException">
    /// The newest generation is corrupt and there is no previous one, or both are corrupt (the message names both).
    /// </exception>
    /// <exception cref="FileNotFoundException">Neither generation exists.</exception>
    public static T ReadWithFallback<T>(string path, Func<string, T> read, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(read);
        var previous = PreviousGenerationPath(path);
        if (!File.Exists(path) && File.Exists(previous))
        {
            logger?.LogWarning("{Path} is missing (a write was interrupted); resuming from the previous generation {Previous}.", path, previous);
            return read(previous);
        }

        try
        {
            return read(path);
        }
        catch (SparsityFormatException newest) when (File.Exists(previous))
        {
            logger?.LogWarning("{Path} is unreadable ({Reason}); falling back to the previous generation {Previous}.", path, newest.Message, previous);
            try
            {
                return read(previous);
            }
            catch (SparsityFormatException older)
            {
                throw new SparsityFormatException(path,
                    $"the newest checkpoint is unreadable ({newest.Message}) and so is the previous generation ({older.Message}).", newest);
            }
        }
    }

    /// <summary>Whether the file holds a tensor named <paramref name="name"/>.</summary>
    /// <param name="name">The tensor's key.</param>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of one tensor.</summary>
    /// <param name="name">The tensor's key.</param>
    /// <exception cref="KeyNotFoundException">No such tensor; the message lists the file's names.</exception>
    public SafeTensorInfo Info(string name) => _byName.TryGetValue(name, out var info)
        ? info
        : throw new KeyNotFoundException($"{_source} has no tensor '{name}'. It holds: {string.Join(", ", Tensors.Select(t => t.Name))}.");

    /// <summary>The raw little-endian bytes of one tensor.</summary>
    /// <param name="name">The tensor's key.</param>
    public byte[] ReadBytes(string name)
    {
        var info = Info(name);
        var bytes = new byte[info.ByteCount];
        try
        {
            _stream.Position = _dataStart + info.Begin;
            _stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException e)
        {
            throw new SparsityFormatException(_source, $"tensor '{name}' is cut off (file shorter than its header says).", e);
        }

        if (info.DType == SafeTensorsDType.Bool && bytes.Any(b => b > 1))
        {
            throw new SparsityFormatException(_source, $"BOOL tensor '{name}' holds bytes other than 0 and 1.");
        }

        return bytes;
    }

    /// <summary>Reads one tensor; the caller owns the result.</summary>
    /// <param name="name">The tensor's key.</param>
    /// <param name="device">Where to put it; CPU when null.</param>
    public Tensor ReadTensor(string name, Device? device = null)
    {
        var info = Info(name);
        var bytes = ReadBytes(name);
        using var scope = NewDisposeScope();
        var tensor = empty(info.Shape.ToArray(), info.DType.ToScalarType());
        if (bytes.Length > 0)
        {
            tensor.bytes = bytes;
        }

        if (device is not null && !device.SameAs(tensor.device))
        {
            tensor = tensor.to(device);
        }

        return tensor.MoveToOuterDisposeScope();
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _stream.Dispose();
}
