using System.Security.Cryptography;
using System.Text;

namespace Sparsity.IO;

/// <summary>
/// The content checksum of a safetensors file: SHA-256 over a canonical description of the header (every
/// tensor's name, dtype, shape and offsets in offset order, then every metadata entry but the checksum itself
/// in ordinal key order) followed by the whole data section. Stored as lowercase hex under
/// <see cref="SafeTensorsReader.ChecksumKey"/> in <c>__metadata__</c>. Any change to a value a reader uses
/// (a byte of a tensor, a shape, a dtype, an offset, a metadata value) changes it.
/// </summary>
internal static class SafeTensorsChecksum
{
    /// <summary>Starts a hash over the canonical header description.</summary>
    public static IncrementalHash Begin(IEnumerable<SafeTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var text = new StringBuilder("sparsity.safetensors.sha256/1\n");
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            text.Append("T\0").Append(t.Name).Append('\0').Append(t.DType.Name()).Append('\0')
                .Append(string.Join(",", t.Shape)).Append('\0').Append(t.Begin).Append('\0').Append(t.End).Append('\n');
        }

        foreach (var (key, value) in metadata.Where(e => e.Key != SafeTensorsReader.ChecksumKey).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append("M\0").Append(key.Length).Append('\0').Append(key).Append('\0').Append(value.Length).Append('\0').Append(value).Append('\n');
        }

        text.Append("D\n");
        hash.AppendData(Encoding.UTF8.GetBytes(text.ToString()));
        return hash;
    }

    /// <summary>Lowercase hex of the finished hash.</summary>
    public static string Finish(IncrementalHash hash) => Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
}
