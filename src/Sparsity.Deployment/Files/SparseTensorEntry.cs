using System.Text.Json;

namespace Sparsity.Deployment.Files;

/// <summary>One masked weight as described in the <c>sparsity.sparse_tensors</c> metadata JSON.</summary>
internal sealed record SparseTensorEntry(string Encoding, long[] Shape, string DType)
{
    public static string Serialize(Dictionary<string, SparseTensorEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, e) in entries)
            {
                json.WriteStartObject(name);
                json.WriteString("encoding", e.Encoding);
                json.WriteStartArray("shape");
                foreach (var d in e.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteString("dtype", e.DType);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static Dictionary<string, SparseTensorEntry> Parse(string text, string path)
    {
        var result = new Dictionary<string, SparseTensorEntry>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 4 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SparsityFormatException(path, "sparsity.sparse_tensors must be a JSON object.");
            }

            foreach (var p in document.RootElement.EnumerateObject())
            {
                var v = p.Value;
                if (v.ValueKind != JsonValueKind.Object
                    || !v.TryGetProperty("encoding", out var enc) || enc.ValueKind != JsonValueKind.String || enc.GetString() is not ("bitmask" or "csr")
                    || !v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String
                    || !v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array
                    || sh.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var x) || x < 0))
                {
                    throw new SparsityFormatException(path, $"sparsity.sparse_tensors entry '{p.Name}' needs encoding (bitmask|csr), dtype and a shape of non-negative integers.");
                }

                if (!result.TryAdd(p.Name, new SparseTensorEntry(enc.GetString()!, sh.EnumerateArray().Select(d => d.GetInt64()).ToArray(), dt.GetString()!)))
                {
                    throw new SparsityFormatException(path, $"sparsity.sparse_tensors names '{p.Name}' twice.");
                }
            }
        }
        catch (JsonException e)
        {
            throw new SparsityFormatException(path, $"sparsity.sparse_tensors is not valid JSON ({e.Message}).", e);
        }

        return result;
    }
}
