using System.Security.Cryptography;
using System.Text.Json;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Files;

/// <summary>
/// Saves a masked model so that only its kept weights are stored, and loads such a file back bit for bit into
/// the dense model. The file is safetensors: every tensor that no mask covers (biases, BatchNorm, dense layers)
/// under its state-dict key as is, and every masked weight as <c>&lt;key&gt;.mask_bits</c> + <c>&lt;key&gt;.values</c>
/// (packed bit mask) or <c>&lt;key&gt;.indptr</c> + <c>&lt;key&gt;.indices</c> + <c>&lt;key&gt;.values</c> (CSR).
/// The metadata names the format, the dense shape and encoding of every masked weight, and a SHA-256 of the
/// data section. docs/deployment.md specifies the format; samples/python/read_compressed.py reads it into a
/// PyTorch state dict.
/// </summary>
/// <remarks>
/// Pruned positions load as +0.0 (a masked model holds ±0.0 there; the sign of a pruned zero is not stored).
/// Kept values, including any that are themselves zero, keep their exact bits, and the returned masks are the
/// saved ones. Loading checks every declared size against the file before allocating (the safetensors header
/// against the file length; dense shapes come from the model, never from the file) and decodes every tensor
/// before the first one is copied into the model, so a rejected file leaves the model unchanged.
/// </remarks>
public static class CompressedModelFile
{
    /// <summary>Metadata key holding the format name.</summary>
    public const string FormatKey = "sparsity.format";

    /// <summary>The format name stored under <see cref="FormatKey"/>.</summary>
    public const string FormatName = "compressed-masked-model";

    /// <summary>Metadata key holding the format version ("1").</summary>
    public const string VersionKey = "sparsity.format_version";

    /// <summary>Metadata key holding the JSON description of the masked weights.</summary>
    public const string SparseTensorsKey = "sparsity.sparse_tensors";

    /// <summary>Metadata key holding the lowercase hex SHA-256 of the data section.</summary>
    public const string ChecksumKey = "sparsity.data_sha256";

    internal const string MaskBitsSuffix = ".mask_bits";
    internal const string ValuesSuffix = ".values";
    internal const string IndPtrSuffix = ".indptr";
    internal const string IndicesSuffix = ".indices";

    /// <summary>
    /// Writes the state dict of <paramref name="model"/> with every weight named in <paramref name="masks"/>
    /// reduced to its kept values. The file is written under a temporary name and renamed.
    /// </summary>
    /// <param name="model">The model (any device; tensors are copied to CPU).</param>
    /// <param name="masks">Masks of some of the model's parameters (state-dict keys, same shapes).</param>
    /// <param name="path">Target file.</param>
    /// <param name="encoding">Bit mask, CSR, or per tensor the smaller of the two (default).</param>
    /// <param name="metadata">Extra string pairs for <c>__metadata__</c>; keys starting with <c>sparsity.</c> are reserved.</param>
    /// <returns>Sizes and encodings of what was written.</returns>
    /// <exception cref="ArgumentException">A mask names no tensor of the model or has another shape; a reserved metadata key; a clash between a state-dict key and a derived tensor name.</exception>
    public static CompressedFileSummary Save(nn.Module model, MaskSet masks, string path, WeightEncoding encoding = WeightEncoding.Auto,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(masks);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!Enum.IsDefined(encoding))
        {
            throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "encoding must be Auto, Bitmask or Csr.");
        }

        var state = model.state_dict();
        var problems = masks.Names.Where(n => !state.ContainsKey(n)).Select(n => $"'{n}' is not a state-dict key")
            .Concat(masks.Names.Where(n => state.ContainsKey(n) && !state[n].shape.SequenceEqual(masks[n].shape))
                .Select(n => $"'{n}' has mask shape [{string.Join(", ", masks[n].shape)}] but tensor shape [{string.Join(", ", state[n].shape)}]"))
            .ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"The masks do not fit the model: {string.Join("; ", problems)}.", nameof(masks));
        }

        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            if (key.StartsWith("sparsity.", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Metadata key '{key}' is reserved (keys starting with 'sparsity.' belong to the file format).", nameof(metadata));
            }

            all[key] = value;
        }

        using var scope = NewDisposeScope();
        var entries = new List<KeyValuePair<string, Tensor>>();
        var described = new Dictionary<string, SparseTensorEntry>(StringComparer.Ordinal);
        var summaries = new List<CompressedTensorSummary>();
        long denseBytes = 0, keptParameters = 0;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var written = new HashSet<string>(StringComparer.Ordinal);
        void Add(string name, Tensor tensor, byte[] bytes, bool derived = true)
        {
            if ((derived && state.ContainsKey(name)) || !written.Add(name))
            {
                throw new ArgumentException($"Tensor name '{name}' would be written twice; rename the state-dict key that clashes with it.", nameof(model));
            }

            entries.Add(KeyValuePair.Create(name, tensor));
            sha.AppendData(bytes);
        }

        foreach (var (key, live) in state)
        {
            var cpu = live.detach().cpu().contiguous();
            var bytes = cpu.numel() == 0 ? [] : cpu.bytes.ToArray();
            denseBytes += bytes.LongLength;
            if (!masks.Contains(key))
            {
                keptParameters += cpu.numel();
                Add(key, cpu, bytes, derived: false);
                continue;
            }

            if (!DTypes.TryGet(live.dtype, out var dtype))
            {
                throw new ArgumentException($"Tensor '{key}' has dtype {live.dtype}, which safetensors output does not support.", nameof(model));
            }

            int size = (int)cpu.ElementSize;
            var maskBytes = masks[key].cpu().contiguous().to(ScalarType.Byte).bytes.ToArray();
            long total = maskBytes.LongLength, kept = masks.KeptIn(key);
            long rows = live.shape.Length == 0 ? 1 : live.shape[0];
            long cols = rows == 0 ? 0 : total / rows;
            var chosen = encoding == WeightEncoding.Auto
                ? (MaskedTensorCodec.CsrBytes(rows, kept, size) < MaskedTensorCodec.BitmaskBytes(total, kept, size) && cols <= int.MaxValue ? WeightEncoding.Csr : WeightEncoding.Bitmask)
                : encoding;
            if (chosen == WeightEncoding.Csr && (cols > int.MaxValue || kept > int.MaxValue))
            {
                throw new ArgumentException($"'{key}' has {cols} columns and {kept} kept weights; CSR with 32-bit indices holds at most {int.MaxValue}. Use the bit-mask encoding.", nameof(encoding));
            }

            var values = MaskedTensorCodec.KeptValues(bytes, maskBytes, kept, size);
            long stored;
            if (chosen == WeightEncoding.Bitmask)
            {
                var bits = MaskedTensorCodec.PackBits(maskBytes);
                Add(key + MaskBitsSuffix, tensor(bits, ScalarType.Byte), bits);
                stored = bits.LongLength + values.LongLength;
            }
            else
            {
                var (indptr, indices) = MaskedTensorCodec.Csr(maskBytes, rows, kept);
                Add(key + IndPtrSuffix, FromBytes(indptr, [rows + 1], ScalarType.Int32), indptr);
                Add(key + IndicesSuffix, FromBytes(indices, [kept], ScalarType.Int32), indices);
                stored = indptr.LongLength + indices.LongLength + values.LongLength;
            }

            Add(key + ValuesSuffix, FromBytes(values, [kept], live.dtype), values);
            described[key] = new SparseTensorEntry(chosen == WeightEncoding.Bitmask ? "bitmask" : "csr", live.shape, DTypes.Name(dtype));
            summaries.Add(new CompressedTensorSummary(key, chosen, total, kept, stored));
            keptParameters += kept;
        }

        all[FormatKey] = FormatName;
        all[VersionKey] = "1";
        all[SparseTensorsKey] = SparseTensorEntry.Serialize(described);
        all[ChecksumKey] = Convert.ToHexStringLower(sha.GetHashAndReset());
        SafeTensorsWriter.Write(path, entries, all);
        return new CompressedFileSummary(path, new FileInfo(path).Length, denseBytes, keptParameters, summaries);
    }

    /// <summary>
    /// Loads a file written by <see cref="Save"/> into <paramref name="model"/> (in place, without autograd) and
    /// returns the saved masks on the model's device. The file must describe exactly the model's state dict.
    /// </summary>
    /// <param name="model">The dense model to fill; unchanged when the file is rejected.</param>
    /// <param name="path">A compressed model file.</param>
    /// <returns>The masks of the masked weights, in state-dict order; the caller owns them.</returns>
    /// <exception cref="SparsityFormatException">The file is truncated, corrupt, not a compressed model file, or not a file of this model (missing, extra or mis-shaped tensors); the message names the file and the fault.</exception>
    public static MaskSet Load(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var reader = SafeTensorsReader.Open(path);
        var described = ReadMetadata(reader, path);
        var bytes = ReadVerified(reader, path);

        var state = model.state_dict();
        var decoded = new List<(string Key, byte[] Dense, byte[]? Mask)>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (key, live) in state)
        {
            if (!DTypes.TryGet(live.dtype, out var dtype))
            {
                throw new ArgumentException($"Tensor '{key}' of the model has dtype {live.dtype}, which safetensors does not support.", nameof(model));
            }

            long total = live.numel();
            int size = (int)live.ElementSize;
            if (!described.TryGetValue(key, out var entry))
            {
                if (!bytes.TryGetValue(key, out var raw))
                {
                    problems.Add($"missing '{key}'");
                    continue;
                }

                var info = reader.Info(key);
                if (info.DType != dtype || !info.Shape.SequenceEqual(live.shape))
                {
                    problems.Add($"'{key}' is [{string.Join(", ", info.Shape)}] {info.DType} in the file, [{string.Join(", ", live.shape)}] {dtype} in the model");
                    continue;
                }

                used.Add(key);
                decoded.Add((key, raw, null));
                continue;
            }

            if (!entry.Shape.SequenceEqual(live.shape) || entry.DType != DTypes.Name(dtype))
            {
                problems.Add($"masked '{key}' is [{string.Join(", ", entry.Shape)}] {entry.DType} in the file, [{string.Join(", ", live.shape)}] {dtype} in the model");
                continue;
            }

            var parts = entry.Encoding == "bitmask" ? new[] { MaskBitsSuffix, ValuesSuffix } : [IndPtrSuffix, IndicesSuffix, ValuesSuffix];
            var missing = parts.Where(p => !bytes.ContainsKey(key + p)).ToList();
            if (missing.Count > 0)
            {
                problems.Add($"masked '{key}' lacks {string.Join(", ", missing.Select(p => key + p))}");
                continue;
            }

            var values = reader.Info(key + ValuesSuffix);
            RequireVector(path, values, dtype);
            if (entry.Encoding == "bitmask")
            {
                RequireVector(path, reader.Info(key + MaskBitsSuffix), SafeTensorsDType.U8);
                var (dense, mask) = MaskedTensorCodec.DecodeBitmask(path, key, total, size, bytes[key + MaskBitsSuffix], bytes[key + ValuesSuffix]);
                decoded.Add((key, dense, mask));
            }
            else
            {
                RequireVector(path, reader.Info(key + IndPtrSuffix), SafeTensorsDType.I32);
                RequireVector(path, reader.Info(key + IndicesSuffix), SafeTensorsDType.I32);
                long rows = live.shape.Length == 0 ? 1 : live.shape[0];
                long cols = rows == 0 ? 0 : total / rows;
                var (dense, mask) = MaskedTensorCodec.DecodeCsr(path, key, rows, cols, size,
                    bytes[key + IndPtrSuffix], bytes[key + IndicesSuffix], bytes[key + ValuesSuffix]);
                decoded.Add((key, dense, mask));
            }

            used.UnionWith(parts.Select(p => key + p));
        }

        problems.AddRange(described.Keys.Where(k => !state.ContainsKey(k)).Select(k => $"masked '{k}' is not a tensor of the model"));
        problems.AddRange(reader.Tensors.Select(t => t.Name).Where(n => !used.Contains(n) && !described.Keys.Any(k => n.StartsWith(k + ".", StringComparison.Ordinal)))
            .Select(n => $"unexpected '{n}'"));
        if (problems.Count > 0)
        {
            throw new SparsityFormatException(path, $"the file does not hold the state dict of {model.GetType().Name}: {string.Join("; ", problems)}. Nothing was loaded.");
        }

        var masks = new List<KeyValuePair<string, Tensor>>();
        using (var noGrad = no_grad())
        {
            foreach (var (key, dense, mask) in decoded)
            {
                var live = state[key];
                using var scope = NewDisposeScope();
                live.copy_(FromBytes(dense, live.shape, live.dtype));
                if (mask is not null)
                {
                    var m = FromBytes(mask, live.shape, ScalarType.Byte).to(ScalarType.Bool).to(live.device);
                    masks.Add(KeyValuePair.Create(key, m.DetachFromDisposeScope()));
                }
            }
        }

        if (masks.Count == 0)
        {
            throw new SparsityFormatException(path, "the file holds no masked weight; it is a dense state dict (load it with StateDict.Load).");
        }

        return new MaskSet(masks);
    }

    private static Dictionary<string, SparseTensorEntry> ReadMetadata(SafeTensorsReader reader, string path)
    {
        if (!reader.Metadata.TryGetValue(FormatKey, out var format) || format != FormatName)
        {
            throw new SparsityFormatException(path, $"metadata '{FormatKey}' is '{format}', not '{FormatName}'; this is not a compressed model file.");
        }

        if (!reader.Metadata.TryGetValue(VersionKey, out var version) || version != "1")
        {
            throw new SparsityFormatException(path, $"metadata '{VersionKey}' is '{version}'; this reader understands version 1.");
        }

        if (!reader.Metadata.TryGetValue(SparseTensorsKey, out var json))
        {
            throw new SparsityFormatException(path, $"metadata '{SparseTensorsKey}' is missing.");
        }

        return SparseTensorEntry.Parse(json, path);
    }

    private static Dictionary<string, byte[]> ReadVerified(SafeTensorsReader reader, string path)
    {
        if (!reader.Metadata.TryGetValue(ChecksumKey, out var expected))
        {
            throw new SparsityFormatException(path, $"metadata '{ChecksumKey}' is missing.");
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var bytes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var info in reader.Tensors)
        {
            var b = reader.ReadBytes(info.Name);
            sha.AppendData(b);
            bytes[info.Name] = b;
        }

        var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (actual != expected)
        {
            throw new SparsityFormatException(path, $"the data section's SHA-256 is {actual} but the metadata says {expected} (corrupt file).");
        }

        return bytes;
    }

    private static void RequireVector(string path, SafeTensorInfo info, SafeTensorsDType dtype)
    {
        if (info.DType != dtype || info.Shape.Count != 1)
        {
            throw new SparsityFormatException(path, $"'{info.Name}' must be a 1-D {DTypes.Name(dtype)} tensor; it is [{string.Join(", ", info.Shape)}] {DTypes.Name(info.DType)}.");
        }
    }

    private static Tensor FromBytes(byte[] bytes, long[] shape, ScalarType type)
    {
        var t = empty(shape, type);
        if (bytes.Length > 0)
        {
            t.bytes = bytes;
        }

        return t;
    }
}
