using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity;

/// <summary>Saving and loading of mask sets as safetensors.</summary>
public sealed partial class MaskSet
{
    /// <summary>Suffix of a mask's key in a file: <c>fc1.weight_mask</c>, the name <c>torch.nn.utils.prune</c> uses.</summary>
    public const string KeySuffix = "_mask";

    private const string FormatKey = "format";
    private const string FormatVersionKey = "format_version";
    private const string FormatName = "sparsity.maskset";
    private const string FormatVersion = "2";

    /// <summary>
    /// Saves every mask as a BOOL tensor under <c>&lt;parameter&gt;_mask</c>, with metadata
    /// <c>format = sparsity.maskset</c>, <c>format_version = 2</c>, the caller's entries and a SHA-256 checksum of
    /// the content (<see cref="SafeTensorsReader.ChecksumKey"/>; <see cref="Load"/> verifies it). PyTorch reads it
    /// with <c>safetensors.torch.load_file</c>. Written to a temporary name, then renamed.
    /// </summary>
    /// <param name="path">Target file.</param>
    /// <param name="metadata">Extra string pairs (may not redefine <c>format</c> or <c>format_version</c>).</param>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal) { [FormatKey] = FormatName, [FormatVersionKey] = FormatVersion };
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            if (!all.TryAdd(key, value))
            {
                throw new ArgumentException($"Metadata key '{key}' is reserved by the mask file format.", nameof(metadata));
            }
        }

        SafeTensorsWriter.WriteWithChecksum(path, Entries.Select(e => KeyValuePair.Create(e.Key + KeySuffix, e.Value)), all, keepPrevious: false);
    }

    /// <summary>
    /// A file written by <see cref="Save"/> (version 2) must carry its checksum; a file without one is read only
    /// as a version-1 mask file or as a foreign (PyTorch) file whose metadata holds no Sparsity entry
    /// (<c>format_version</c>, keys or a format starting with <c>sparsity</c>), so that a corrupted checksum key
    /// cannot turn a corrupted file of ours into an unchecked one.
    /// </summary>
    private static void CheckProvenance(IReadOnlyDictionary<string, string> metadata, bool hasChecksum, string path)
    {
        var format = metadata.GetValueOrDefault(FormatKey);
        var version = metadata.GetValueOrDefault(FormatVersionKey);
        if (format == FormatName && version is not ("1" or FormatVersion))
        {
            throw new SparsityFormatException(path, $"mask file format version '{version}' is not supported (1 or {FormatVersion}).");
        }

        if (hasChecksum || (format == FormatName && version == "1"))
        {
            return;
        }

        bool ours = version is not null || (format?.StartsWith("sparsity", StringComparison.Ordinal) ?? false)
            || metadata.Keys.Any(k => k.StartsWith("sparsity", StringComparison.Ordinal));
        if (ours)
        {
            throw new SparsityFormatException(path,
                "the file carries Sparsity mask-file metadata but no checksum (format version 2 files always have one); it was corrupted or edited.");
        }
    }

    /// <summary>
    /// Loads every <c>*_mask</c> tensor of a safetensors file (BOOL, or U8 holding 0/1 as some PyTorch code
    /// saves them), in file order, named without the suffix.
    /// </summary>
    /// <param name="path">A file written by <see cref="Save"/> or by PyTorch.</param>
    /// <param name="device">Where to put the masks; CPU when null.</param>
    /// <exception cref="SparsityFormatException">
    /// The file is not valid safetensors, holds no mask, a mask with a blank parameter name (e.g. <c>" _mask"</c>),
    /// a mask that is not BOOL/U8 0-1, content that does not match its SHA-256 checksum, or Sparsity metadata
    /// without a checksum (a file written by <see cref="Save"/> always has one; PyTorch files without Sparsity
    /// metadata are read unchecked). The message names the file.
    /// </exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static MaskSet Load(string path, Device? device = null)
    {
        using var reader = SafeTensorsReader.Open(path); // verifies the checksum when there is one
        CheckProvenance(reader.Metadata, reader.HasChecksum, path);
        var maskInfos = reader.Tensors.Where(t => t.Name.EndsWith(KeySuffix, StringComparison.Ordinal) && t.Name.Length > KeySuffix.Length).ToList();
        if (maskInfos.Count == 0)
        {
            throw new SparsityFormatException(path, $"no '*{KeySuffix}' tensor found; the file holds: {string.Join(", ", reader.Tensors.Select(t => t.Name))}.");
        }

        var blank = maskInfos.FirstOrDefault(t => string.IsNullOrWhiteSpace(t.Name[..^KeySuffix.Length]));
        if (blank is not null)
        {
            throw new SparsityFormatException(path, $"mask '{blank.Name}' has a blank parameter name.");
        }

        var masks = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var info in maskInfos)
            {
                if (info.DType is not (SafeTensorsDType.Bool or SafeTensorsDType.U8))
                {
                    throw new SparsityFormatException(path, $"mask '{info.Name}' has dtype {info.DType.Name()}; masks are BOOL or U8.");
                }

                if (info.DType == SafeTensorsDType.U8 && reader.ReadBytes(info.Name).Any(b => b > 1))
                {
                    throw new SparsityFormatException(path, $"U8 mask '{info.Name}' holds values other than 0 and 1.");
                }

                using var raw = reader.ReadTensor(info.Name, device);
                masks.Add(KeyValuePair.Create(info.Name[..^KeySuffix.Length], raw.to(ScalarType.Bool).clone().DetachFromDisposeScope()));
            }

            return new MaskSet(masks);
        }
        catch
        {
            masks.ForEach(m => m.Value.Dispose());
            throw;
        }
    }
}
