using System.Buffers.Binary;
using System.Text.Json;
using static TorchSharp.torch;

namespace Sparsity.IO;

/// <summary>
/// Writes safetensors files that PyTorch's <c>safetensors.torch.load_file</c> reads: tensors in the given
/// order, contiguous offsets, the data section aligned to 8 bytes (header padded with spaces). The file is
/// written under a temporary name and renamed, so a failure never leaves a half-written file.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> (copied to CPU) and optional metadata to <paramref name="path"/>.</summary>
    /// <param name="path">Target file; replaced atomically if it exists.</param>
    /// <param name="tensors">Name → tensor pairs; names unique and non-empty; dtypes F64, F32, F16, BF16, I64, I32, U8 or bool.</param>
    /// <param name="metadata">String → string pairs stored as <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">Duplicate or empty name, or an unsupported dtype.</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = Collect(tensors);
        WriteEntries(path, entries, metadata, keepPrevious: false);
    }

    /// <summary>
    /// Writes like <see cref="Write"/> and adds the content checksum (SHA-256 of the header description and the
    /// data section, see <see cref="SafeTensorsReader.VerifyChecksum"/>) under
    /// <see cref="SafeTensorsReader.ChecksumKey"/> in the metadata. With <paramref name="keepPrevious"/> the
    /// file being replaced is first renamed to <see cref="SafeTensorsReader.PreviousGenerationPath"/>, so a
    /// checkpoint keeps its last good generation (<see cref="SafeTensorsReader.ReadWithFallback{T}"/>).
    /// </summary>
    /// <param name="path">Target file; replaced atomically if it exists.</param>
    /// <param name="tensors">As for <see cref="Write"/>.</param>
    /// <param name="metadata">As for <see cref="Write"/>; may not contain <see cref="SafeTensorsReader.ChecksumKey"/>.</param>
    /// <param name="keepPrevious">Keep the replaced file as the previous generation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Write"/>, or the metadata already holds the checksum key.</exception>
    public static void WriteWithChecksum(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata, bool keepPrevious)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = Collect(tensors);
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            if (key == SafeTensorsReader.ChecksumKey)
            {
                throw new ArgumentException($"Metadata key '{key}' is reserved for the checksum.", nameof(metadata));
            }

            all[key] = value ?? throw new ArgumentException($"Metadata '{key}' is null.", nameof(metadata));
        }

        var infos = new List<SafeTensorInfo>(entries.Count);
        long offset = 0;
        foreach (var e in entries)
        {
            infos.Add(new SafeTensorInfo(e.Name, e.DType, e.Shape, offset, offset + e.Bytes.Length));
            offset += e.Bytes.Length;
        }

        using (var hash = SafeTensorsChecksum.Begin(infos, all))
        {
            foreach (var e in entries)
            {
                hash.AppendData(e.Bytes);
            }

            all[SafeTensorsReader.ChecksumKey] = SafeTensorsChecksum.Finish(hash);
        }

        WriteEntries(path, entries, all, keepPrevious);
    }

    private static List<(string Name, SafeTensorsDType DType, long[] Shape, byte[] Bytes)> Collect(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        var entries = new List<(string Name, SafeTensorsDType DType, long[] Shape, byte[] Bytes)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == SafeTensorsHeader.MetadataKey)
            {
                throw new ArgumentException($"Tensor name '{name}' is empty or reserved.", nameof(tensors));
            }

            if (!names.Add(name))
            {
                throw new ArgumentException($"Tensor name '{name}' appears twice.", nameof(tensors));
            }

            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (!SafeTensorsDTypes.TryFromScalarType(tensor.dtype, out var dtype))
            {
                throw new ArgumentException(
                    $"Tensor '{name}' has dtype {tensor.dtype}; safetensors output supports Float64, Float32, Float16, BFloat16, Int64, Int32, Byte and Bool.",
                    nameof(tensors));
            }

            entries.Add((name, dtype, tensor.shape, Bytes(tensor)));
        }

        return entries;
    }

    private static void WriteEntries(string path, List<(string Name, SafeTensorsDType DType, long[] Shape, byte[] Bytes)> entries,
        IReadOnlyDictionary<string, string>? metadata, bool keepPrevious)
    {
        var header = Header(entries, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var e in entries)
            {
                stream.Write(e.Bytes);
            }
        }, keepPrevious);
    }

    private static byte[] Bytes(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        return cpu.numel() == 0 ? [] : cpu.bytes.ToArray();
    }

    private static byte[] Header(List<(string Name, SafeTensorsDType DType, long[] Shape, byte[] Bytes)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value ?? throw new ArgumentException($"Metadata '{key}' is null.", nameof(metadata)));
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", e.DType.Name());
                json.WriteStartArray("shape");
                foreach (var d in e.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + e.Bytes.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += e.Bytes.Length;
            }

            json.WriteEndObject();
        }

        // Pad with spaces so that the data section starts at a multiple of 8 bytes.
        var length = buffer.Length;
        var padded = (length + 8 + 7) / 8 * 8 - 8;
        var header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        Array.Fill(header, (byte)' ', (int)length, (int)(padded - length));
        return header;
    }
}
