using System.Text;
using System.Text.Json;

namespace Sparsity.IO;

/// <summary>
/// Parses and validates a safetensors header (the JSON object after the 8-byte length prefix). Everything
/// that could make a later read go wrong is checked here, before any tensor memory is allocated.
/// </summary>
internal static class SafeTensorsHeader
{
    /// <summary>Largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    /// <summary>Most dimensions a tensor may have (libtorch's own limit is in this range).</summary>
    public const int MaxDimensions = 32;

    /// <summary>Parses <paramref name="header"/>; <paramref name="dataLength"/> is the size of the data section.</summary>
    public static (IReadOnlyList<SafeTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(
        ReadOnlyMemory<byte> header, long dataLength, string source)
    {
        JsonDocument document;
        try
        {
            var text = new UTF8Encoding(false, true).GetString(header.Span);
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException or ArgumentException)
        {
            throw new SparsityFormatException(source, $"the header is not valid UTF-8 JSON ({e.Message}).", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SparsityFormatException(source, "the header must be a JSON object.");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                    {
                        throw new SparsityFormatException(source, $"the header names '{property.Name}' twice.");
                    }

                    if (property.Name == MetadataKey)
                    {
                        ReadMetadata(property.Value, metadata, source);
                    }
                    else
                    {
                        tensors.Add(ReadEntry(property.Name, property.Value, source));
                    }
                }
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or DecoderFallbackException)
            {
                // A name or value that is valid JSON but not valid UTF-16 text (e.g. a lone surrogate "\ud800").
                throw new SparsityFormatException(source, $"the header holds a name or value that is not valid text ({e.Message}).", e);
            }

            CheckLayout(tensors, dataLength, source);
            return (tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList(), metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SparsityFormatException(source, "__metadata__ must be an object of strings.");
        }

        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new SparsityFormatException(source, $"__metadata__ value '{entry.Name}' is not a string.");
            }

            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw new SparsityFormatException(source, $"__metadata__ names '{entry.Name}' twice.");
            }
        }
    }

    private static SafeTensorInfo ReadEntry(string name, JsonElement value, string source)
    {
        if (name.Length == 0)
        {
            throw new SparsityFormatException(source, "a tensor has an empty name.");
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SparsityFormatException(source, $"entry '{name}' is not an object.");
        }

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new SparsityFormatException(source, $"tensor '{name}' has no dtype string.");
        }

        var dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorsDTypes.TryParse(dtypeName, out var dtype))
        {
            throw new SparsityFormatException(source,
                $"tensor '{name}' has unsupported dtype '{dtypeName}' (supported: F64, F32, F16, BF16, I64, I32, U8, BOOL).");
        }

        var shape = ReadIntegers(value, "shape", name, source);
        if (shape.Length > MaxDimensions)
        {
            throw new SparsityFormatException(source, $"tensor '{name}' has {shape.Length} dimensions (at most {MaxDimensions} supported).");
        }

        var offsets = ReadIntegers(value, "data_offsets", name, source);
        if (offsets.Length != 2 || offsets[0] > offsets[1])
        {
            throw new SparsityFormatException(source, $"tensor '{name}' data_offsets must be [begin, end] with begin ≤ end.");
        }

        long bytes;
        try
        {
            bytes = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * dtype.Size());
            _ = shape.Aggregate(1L, (a, b) => checked(a * Math.Max(b, 1))); // even an empty tensor's dims must be representable
        }
        catch (OverflowException e)
        {
            throw new SparsityFormatException(source, $"tensor '{name}' shape [{string.Join(", ", shape)}] overflows.", e);
        }

        if (offsets[1] - offsets[0] != bytes)
        {
            throw new SparsityFormatException(source,
                $"tensor '{name}' spans {offsets[1] - offsets[0]} bytes but shape [{string.Join(", ", shape)}] of {dtype.Name()} needs {bytes}.");
        }

        return new SafeTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(JsonElement entry, string key, string name, string source)
    {
        if (!entry.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new SparsityFormatException(source, $"tensor '{name}' has no {key} array.");
        }

        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0)
            {
                throw new SparsityFormatException(source, $"tensor '{name}' {key} must hold non-negative integers.");
            }

            values.Add(v);
        }

        return values.ToArray();
    }

    private static void CheckLayout(List<SafeTensorInfo> tensors, long dataLength, string source)
    {
        long expectedBegin = 0;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin != expectedBegin)
            {
                var fault = t.Begin < expectedBegin ? "overlaps the previous tensor" : "leaves a gap after the previous tensor";
                throw new SparsityFormatException(source, $"tensor '{t.Name}' at bytes [{t.Begin}, {t.End}) {fault}.");
            }

            expectedBegin = t.End;
        }

        if (expectedBegin != dataLength)
        {
            throw new SparsityFormatException(source,
                $"the tensors cover {expectedBegin} bytes but the data section holds {dataLength} (truncated or padded file).");
        }
    }
}
