using System.Security.Cryptography;
using System.Text.Json;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// The per-epoch checkpoint: one safetensors file (written atomically) with scores, momentum buffers,
/// current masks (keys <c>&lt;param&gt;_mask</c>, so <see cref="MaskSet.Load"/> reads the file), initial masks, tracked thresholds, the model's buffers (BatchNorm statistics), and JSON
/// metadata (epochs done, history, option fingerprint, digest of the searched weights).
/// </summary>
internal static class SearchCheckpoint
{
    private const string MetadataKey = "sparsity.search";
    private const int Version = 1;

    private sealed record Meta(
        int Version,
        int EpochsDone,
        string Fingerprint,
        string[] Names,
        Dictionary<string, string> WeightDigests,
        Dictionary<string, double> Deltas,
        List<SearchEpoch> History,
        long CountHits,
        long BandHits,
        long ExactSelections);

    public static void Write(string path, SearchState state, MaskSearchOptions options, nn.Module model,
        IReadOnlyList<PrunableParameter> parameters, MaskSet? current = null)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using var scope = NewDisposeScope();
        foreach (var p in parameters)
        {
            tensors.Add(new("score." + p.Name, state.Scores[p.Name]));
            if (state.Momentum.TryGetValue(p.Name, out var m))
            {
                tensors.Add(new("momentum." + p.Name, m));
            }

            tensors.Add(new(p.Name + MaskSet.KeySuffix, (current ?? state.Masks)[p.Name]));
            tensors.Add(new("initial." + p.Name, state.InitialMasks[p.Name]));
            if (state.Trackers.TryGetValue(p.Name, out var t) && t.ThresholdValue is { } tau)
            {
                tensors.Add(new("threshold." + p.Name, tensor(new[] { tau })));
            }
        }

        foreach (var (name, buffer) in model.named_buffers())
        {
            tensors.Add(new("buffer." + name, buffer));
        }

        var stats = state.Statistics();
        var meta = new Meta(Version, state.EpochsDone, options.Fingerprint(), parameters.Select(p => p.Name).ToArray(),
            state.WeightDigests,
            state.Trackers.ToDictionary(e => e.Key, e => e.Value.Delta),
            state.History, stats.CountHits, stats.BandHits, stats.ExactSelections);
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { [MetadataKey] = JsonSerializer.Serialize(meta) });
    }

    public static IReadOnlyList<string> ReadNames(string path)
    {
        using var reader = Open(path);
        return ReadMeta(reader, path).Names;
    }

    public static SearchState Read(string path, MaskSearchOptions options, nn.Module model, IReadOnlyList<PrunableParameter> parameters, Device device)
    {
        using var reader = Open(path);
        var meta = ReadMeta(reader, path);
        if (meta.Fingerprint != options.Fingerprint())
        {
            throw new ArgumentException(
                $"The checkpoint {path} was written by a run with other settings ({meta.Fingerprint}) than these options ({options.Fingerprint()}); resume with the same options.",
                "options");
        }

        var digests = Digests(parameters);
        var changed = meta.WeightDigests.Where(e => !digests.TryGetValue(e.Key, out var d) || d != e.Value).Select(e => e.Key).ToList();
        if (changed.Count > 0)
        {
            throw new ArgumentException(
                $"The model's weights differ from those of the checkpointed run ({string.Join(", ", changed)}); resume with the same pre-trained model.",
                nameof(model));
        }

        var masks = new MaskSet(parameters.Select(p => KeyValuePair.Create(p.Name, reader.ReadTensor(p.Name + MaskSet.KeySuffix, device))).ToList());
        var initial = new MaskSet(parameters.Select(p => KeyValuePair.Create(p.Name, reader.ReadTensor("initial." + p.Name, device))).ToList());
        var state = SearchState.FromParts(initial, masks, parameters, options.SemiStructured);
        state.EpochsDone = meta.EpochsDone;
        state.WeightDigests = digests;
        state.History.AddRange(meta.History);
        state.PriorStatistics = new SelectionStatistics(meta.CountHits, meta.BandHits, meta.ExactSelections);
        foreach (var p in parameters)
        {
            state.Scores[p.Name] = reader.ReadTensor("score." + p.Name, device).DetachFromDisposeScope();
            if (reader.Contains("momentum." + p.Name))
            {
                state.Momentum[p.Name] = reader.ReadTensor("momentum." + p.Name, device).DetachFromDisposeScope();
            }

            if (state.Trackers.TryGetValue(p.Name, out var tracker) && reader.Contains("threshold." + p.Name))
            {
                using var tau = reader.ReadTensor("threshold." + p.Name);
                tracker.Restore(tau.data<float>()[0], meta.Deltas.GetValueOrDefault(p.Name));
            }
        }

        using var noGrad = no_grad();
        foreach (var (name, buffer) in model.named_buffers())
        {
            if (reader.Contains("buffer." + name))
            {
                using var value = reader.ReadTensor("buffer." + name, buffer.device);
                buffer.copy_(value);
            }
        }

        return state;
    }

    private static SafeTensorsReader Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No search checkpoint at {path}; nothing to resume.", path);
        }

        return SafeTensorsReader.Open(path);
    }

    private static Meta ReadMeta(SafeTensorsReader reader, string path)
    {
        if (!reader.Metadata.TryGetValue(MetadataKey, out var json))
        {
            throw new SparsityFormatException(path, $"{path} is not a search checkpoint (metadata '{MetadataKey}' missing).");
        }

        var meta = JsonSerializer.Deserialize<Meta>(json) ?? throw new SparsityFormatException(path, $"{path}: empty search metadata.");
        if (meta.Version != Version)
        {
            throw new SparsityFormatException(path, $"{path}: search checkpoint version {meta.Version}, expected {Version}.");
        }

        return meta;
    }

    /// <summary>SHA-256 of each searched weight's values (call while the weights are dense) (float32, CPU, row-major).</summary>
    public static Dictionary<string, string> Digests(IReadOnlyList<PrunableParameter> parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            using var scope = NewDisposeScope();
            var w = p.Weight.detach().to(ScalarType.Float32).cpu().contiguous();
            var values = w.data<float>().ToArray();
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
            result[p.Name] = Convert.ToHexString(SHA256.HashData(bytes));
        }

        return result;
    }
}
