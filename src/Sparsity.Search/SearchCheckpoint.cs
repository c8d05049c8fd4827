using System.Security.Cryptography;
using System.Text.Json;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// The per-epoch checkpoint: one safetensors file (written atomically) with scores, momentum buffers,
/// current masks (keys <c>&lt;param&gt;_mask</c>, so <see cref="MaskSet.Load"/> reads the file), initial masks, tracked thresholds, the model's buffers (BatchNorm statistics), and JSON
/// metadata (epochs done, history, option fingerprint, digest of the searched weights), with a SHA-256
/// checksum of the content. Each write keeps the replaced file as <c>&lt;checkpoint file&gt;.prev</c>, the
/// generation a resume falls back to when the newest is truncated or corrupt.
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
        SafeTensorsWriter.WriteWithChecksum(path, tensors, new Dictionary<string, string> { [MetadataKey] = JsonSerializer.Serialize(meta) }, keepPrevious: true);
    }

    public static IReadOnlyList<string> ReadNames(string path)
    {
        using var reader = Open(path);
        return ReadMeta(reader, path).Names;
    }

    /// <summary>
    /// Reads and validates every field of the checkpoint before anything is changed: the SHA-256 checksum of the
    /// content, the metadata (version, epochs done within [0, Epochs], a history record per epoch done,
    /// non-negative counters, one digest per parameter, finite band widths), and every tensor (present, dtype,
    /// shape, per-layer kept count of the mask equal to the initial mask's, finite scores, thresholds and
    /// momentum, buffers matching the model's). Any fault raises <see cref="SparsityFormatException"/> naming
    /// the file; a checkpoint of another run or model raises <see cref="ArgumentException"/>.
    /// </summary>
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

        if (meta.EpochsDone > options.Epochs)
        {
            throw new SparsityFormatException(path, $"the checkpoint claims {meta.EpochsDone} epochs done but the run has {options.Epochs}.");
        }

        if (!meta.Names.SequenceEqual(parameters.Select(p => p.Name)))
        {
            throw new SparsityFormatException(path, "the checkpoint's parameter names do not match the resolved parameters.");
        }

        var digests = Digests(parameters);
        var changed = meta.WeightDigests.Where(e => !digests.TryGetValue(e.Key, out var d) || d != e.Value).Select(e => e.Key).ToList();
        if (changed.Count > 0)
        {
            throw new ArgumentException(
                $"The model's weights differ from those of the checkpointed run ({string.Join(", ", changed)}); resume with the same pre-trained model.",
                nameof(model));
        }

        ValidateTensors(reader, path, model, parameters);
        var masks = new MaskSet(parameters.Select(p => KeyValuePair.Create(p.Name, reader.ReadTensor(p.Name + MaskSet.KeySuffix, device))).ToList());
        using var initial = new MaskSet(parameters.Select(p => KeyValuePair.Create(p.Name, reader.ReadTensor("initial." + p.Name, device))).ToList());
        var wrongCount = parameters.Where(p => masks.KeptIn(p.Name) != initial.KeptIn(p.Name)).ToList();
        if (wrongCount.Count > 0 || initial.KeptCount == 0)
        {
            masks.Dispose();
            throw new SparsityFormatException(path, wrongCount.Count > 0
                ? $"the mask of '{wrongCount[0].Name}' keeps {masks.KeptIn(wrongCount[0].Name)} weights but the layer's budget (the initial mask) is {initial.KeptIn(wrongCount[0].Name)}."
                : "the initial mask keeps no weight.");
        }

        var state = SearchState.FromParts(initial.Clone(), masks, parameters, options.SemiStructured);
        try
        {
            state.EpochsDone = meta.EpochsDone;
            state.WeightDigests = digests;
            state.History.AddRange(meta.History);
            state.PriorStatistics = new SelectionStatistics(meta.CountHits, meta.BandHits, meta.ExactSelections);
            foreach (var p in parameters)
            {
                state.Scores[p.Name] = ReadFinite(reader, path, "score." + p.Name, device);
                if (reader.Contains("momentum." + p.Name))
                {
                    state.Momentum[p.Name] = ReadFinite(reader, path, "momentum." + p.Name, device);
                }

                if (reader.Contains("threshold." + p.Name))
                {
                    using var tau = ReadFinite(reader, path, "threshold." + p.Name, null);
                    if (!state.Trackers.TryGetValue(p.Name, out var tracker))
                    {
                        throw new SparsityFormatException(path, $"threshold of '{p.Name}', a layer that keeps nothing.");
                    }

                    tracker.Restore(tau.data<float>()[0], meta.Deltas.GetValueOrDefault(p.Name));
                }
            }

            using var noGrad = no_grad();
            foreach (var (name, buffer) in model.named_buffers())
            {
                using var value = reader.ReadTensor("buffer." + name, buffer.device);
                buffer.copy_(value);
            }

            return state;
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    /// <summary>Checks every tensor entry's presence, dtype and shape (no tensor is read yet).</summary>
    private static void ValidateTensors(SafeTensorsReader reader, string path, nn.Module model, IReadOnlyList<PrunableParameter> parameters)
    {
        var expected = new Dictionary<string, (ScalarType DType, long[] Shape, bool Required)>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            expected[p.Name + MaskSet.KeySuffix] = (ScalarType.Bool, p.Shape, true);
            expected["initial." + p.Name] = (ScalarType.Bool, p.Shape, true);
            expected["score." + p.Name] = (ScalarType.Float32, p.Shape, true);
            expected["momentum." + p.Name] = (ScalarType.Float32, p.Shape, false);
            expected["threshold." + p.Name] = (ScalarType.Float32, [1], false);
        }

        foreach (var (name, buffer) in model.named_buffers())
        {
            expected["buffer." + name] = (buffer.dtype, buffer.shape, true);
        }

        foreach (var info in reader.Tensors)
        {
            if (!expected.TryGetValue(info.Name, out var want))
            {
                throw new SparsityFormatException(path, $"unexpected tensor '{info.Name}' (not part of a search checkpoint of this model).");
            }

            if (info.ScalarType != want.DType || !info.Shape.SequenceEqual(want.Shape))
            {
                throw new SparsityFormatException(path,
                    $"tensor '{info.Name}' is {info.ScalarType} [{string.Join(", ", info.Shape)}] but must be {want.DType} [{string.Join(", ", want.Shape)}].");
            }
        }

        var missing = expected.Where(e => e.Value.Required && !reader.Contains(e.Key)).Select(e => e.Key).ToList();
        if (missing.Count > 0)
        {
            throw new SparsityFormatException(path, $"tensors missing: {string.Join(", ", missing)}.");
        }
    }

    private static Tensor ReadFinite(SafeTensorsReader reader, string path, string name, Device? device)
    {
        var t = reader.ReadTensor(name, device);
        using var finite = t.isfinite().all();
        if (!finite.item<bool>())
        {
            t.Dispose();
            throw new SparsityFormatException(path, $"tensor '{name}' holds NaN or ±∞.");
        }

        return t.DetachFromDisposeScope();
    }

    private static SafeTensorsReader Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No search checkpoint at {path}; nothing to resume.", path);
        }

        var reader = SafeTensorsReader.Open(path);
        try
        {
            reader.VerifyChecksum();
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private static Meta ReadMeta(SafeTensorsReader reader, string path)
    {
        if (!reader.Metadata.TryGetValue(MetadataKey, out var json))
        {
            throw new SparsityFormatException(path, $"not a search checkpoint (metadata '{MetadataKey}' missing).");
        }

        Meta? meta;
        try
        {
            meta = JsonSerializer.Deserialize<Meta>(json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new SparsityFormatException(path, $"the search metadata is not valid ({e.Message}).", e);
        }

        if (meta is null)
        {
            throw new SparsityFormatException(path, "empty search metadata.");
        }

        if (meta.Version != Version)
        {
            throw new SparsityFormatException(path, $"search checkpoint version {meta.Version}, expected {Version}.");
        }

        string? fault = meta switch
        {
            { Fingerprint: null } => "no option fingerprint",
            { Names: null } or { Names.Length: 0 } => "no parameter names",
            { WeightDigests: null } or { Deltas: null } or { History: null } => "a missing digest, band or history table",
            _ when meta.Names.Any(string.IsNullOrWhiteSpace) || meta.Names.Distinct(StringComparer.Ordinal).Count() != meta.Names.Length
                => "blank or repeated parameter names",
            _ when meta.EpochsDone < 0 => $"epochs done {meta.EpochsDone} is negative",
            _ when meta.History.Count != meta.EpochsDone => $"the history holds {meta.History.Count} epochs but {meta.EpochsDone} are done",
            _ when meta.History.Select((h, i) => h is null || h.Epoch != i + 1 || h.Steps < 0 || h.FlipsAccepted < 0 || h.FlipsRefused < 0
                    || !double.IsFinite(h.TrainLoss) || !double.IsFinite(h.LearningRate)).Any(bad => bad)
                => "a history record that is out of order or out of range",
            _ when meta.CountHits < 0 || meta.BandHits < 0 || meta.ExactSelections < 0 => "negative selection counters",
            _ when meta.WeightDigests.Count != meta.Names.Length || meta.Names.Any(n => !meta.WeightDigests.TryGetValue(n, out var d) || d is null || d.Length != 64)
                => "weight digests that do not cover the parameters",
            _ when meta.Deltas.Any(e => !meta.Names.Contains(e.Key) || !double.IsFinite(e.Value) || e.Value < 0)
                => "a band width for an unknown layer or one that is negative or not finite",
            _ => null,
        };
        if (fault is not null)
        {
            throw new SparsityFormatException(path, $"invalid search metadata: {fault}.");
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
