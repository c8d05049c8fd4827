using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>
/// Files of an iterative-pruning run. A level's ticket is one safetensors file: the masks as BOOL tensors
/// under <c>&lt;param&gt;_mask</c> (what <see cref="MaskSet.Load"/> and <c>torch.nn.utils.prune</c> read)
/// beside the rewound weights under their plain state-dict keys (pruned positions 0.0), with the level
/// record as JSON metadata. The run state (<c>imp-state.safetensors</c>) holds what a resume needs; every
/// file is written to a temporary name and renamed.
/// </summary>
public static class TicketCheckpoint
{
    /// <summary>File name of the run state inside the checkpoint folder.</summary>
    public const string StateFileName = "imp-state.safetensors";

    private const string FormatKey = "format";
    private const string TicketFormat = "sparsity.ticket";
    private const string StateFormat = "sparsity.imp-state";
    private const string RecordKey = "record";
    private const string StateKey = "state";
    private const string VersionKey = "format_version";
    private const string FormatVersion = "2";
    private const string RewindPrefix = "rewind/";
    private const string TrainedPrefix = "trained/";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>File name of the ticket of <paramref name="level"/>: <c>ticket-level-03.safetensors</c>.</summary>
    /// <param name="level">Pruning level (0 = dense).</param>
    public static string TicketFileName(int level) => $"ticket-level-{level:D2}.safetensors";

    /// <summary>
    /// Loads a ticket into <paramref name="model"/> (its weights, every key required) and returns its masks.
    /// </summary>
    /// <param name="model">A model of the architecture the ticket was found in; its state is overwritten.</param>
    /// <param name="path">A ticket file.</param>
    /// <returns>The ticket's masks, on the model's device (caller owns them).</returns>
    /// <exception cref="ArgumentException">The file lacks some of the model's keys or has mis-shaped ones; the model is unchanged.</exception>
    /// <exception cref="SparsityFormatException">
    /// The file is truncated or corrupt, not a ticket, or its content does not match its SHA-256 checksum; the model is unchanged.
    /// </exception>
    public static MaskSet Load(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = model.state_dict();
        using (var reader = SafeTensorsReader.Open(path))
        {
            VerifyTicket(reader, path);
            var missing = state.Keys.Where(k => !reader.Contains(k)).ToList();
            if (missing.Count > 0)
            {
                throw new ArgumentException($"{path} is not a ticket of this model: it lacks {string.Join(", ", missing)}.", nameof(path));
            }

            var misshaped = state.Where(kv => !reader.Info(kv.Key).Shape.SequenceEqual(kv.Value.shape)).Select(kv => kv.Key).ToList();
            if (misshaped.Count > 0)
            {
                throw new ArgumentException($"{path} does not fit the model: {string.Join(", ", misshaped)} have other shapes.", nameof(path));
            }
        }

        var device = state.Values.First().device;
        var masks = MaskSet.Load(path, device);
        try
        {
            var result = StateDict.Load(model, path, strict: false);
            if (result.Mismatched.Count > 0)
            {
                throw new ArgumentException($"{path} does not fit the model: {string.Join("; ", result.Mismatched)}.", nameof(path));
            }

            return masks;
        }
        catch
        {
            masks.Dispose();
            throw;
        }
    }

    /// <summary>Reads the level record stored in a ticket file.</summary>
    /// <param name="path">A ticket file.</param>
    /// <exception cref="SparsityFormatException">The file is corrupt, not a ticket, or its record is invalid.</exception>
    public static LevelRecord ReadRecord(string path)
    {
        using var reader = SafeTensorsReader.Open(path);
        VerifyTicket(reader, path);
        if (!reader.Metadata.TryGetValue(RecordKey, out var json))
        {
            throw new SparsityFormatException(path, "no level record in the metadata; not a ticket file.");
        }

        var record = Deserialize<LevelRecord>(json, path, "level record");
        if (Fault(record) is { } fault)
        {
            throw new SparsityFormatException(path, $"invalid level record: {fault}.");
        }

        return record;
    }

    /// <summary>Ticket files of format version 2 carry a SHA-256 checksum (version 1 files, written before, do not).</summary>
    private static void VerifyTicket(SafeTensorsReader reader, string path)
    {
        var format = reader.Metadata.GetValueOrDefault(FormatKey);
        var version = reader.Metadata.GetValueOrDefault(VersionKey);
        if (format != TicketFormat)
        {
            throw new SparsityFormatException(path, $"format '{format}' is not '{TicketFormat}'; not a ticket file.");
        }

        if (version == FormatVersion)
        {
            reader.VerifyChecksum();
        }
        else if (version != "1")
        {
            throw new SparsityFormatException(path, $"ticket format version '{version}' is not supported (1 or {FormatVersion}).");
        }
    }

    private static T Deserialize<T>(string json, string path, string what)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Json) ?? throw new SparsityFormatException(path, $"the {what} is empty.");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new SparsityFormatException(path, $"the {what} is not valid ({e.Message}).", e);
        }
    }

    /// <summary>What is wrong with a level record, or null.</summary>
    private static string? Fault(LevelRecord? r) => r switch
    {
        null => "a record is null",
        { Level: < 0 } => $"level {r.Level} is negative",
        _ when !(r.Fraction >= 0 && r.Fraction < 1) => $"fraction {r.Fraction} outside [0, 1)",
        _ when r.TotalCount < 0 || r.KeptCount < 0 || r.KeptCount > r.TotalCount => $"kept {r.KeptCount} of {r.TotalCount}",
        { Layers: null } or { Epochs: null } => "no layers or epochs",
        _ when r.Layers.Any(l => l is null || string.IsNullOrWhiteSpace(l.Name) || l.Total < 1 || l.Kept < 0 || l.Kept > l.Total)
            => "a layer with an invalid name or kept count",
        _ when r.Layers.Sum(l => l.Kept) != r.KeptCount || r.Layers.Sum(l => l.Total) != r.TotalCount => "layer counts that do not add up",
        _ when r.Epochs.Any(e => e is null || !double.IsFinite(e.TestAccuracy) || !double.IsFinite(e.Seconds)) => "an invalid epoch result",
        _ when !double.IsFinite(r.TestAccuracy) || !(r.Seconds >= 0) || double.IsPositiveInfinity(r.Seconds) => "a non-finite accuracy or time",
        _ => null,
    };

    internal static void SaveTicket(string path, MaskSet mask, ModelState start, LevelRecord record)
    {
        var tensors = mask.Entries.Select(e => KeyValuePair.Create(e.Key + MaskSet.KeySuffix, e.Value)).ToList();
        var weights = start.Masked(mask);
        try
        {
            SafeTensorsWriter.WriteWithChecksum(path, tensors.Concat(weights), new Dictionary<string, string>
            {
                [FormatKey] = TicketFormat,
                [VersionKey] = FormatVersion,
                [RecordKey] = JsonSerializer.Serialize(record, Json),
            }, keepPrevious: false);
        }
        finally
        {
            weights.ForEach(w => w.Value.Dispose());
        }
    }

    internal static void SaveState(string folder, RunState state, MaskSet mask, ModelState? rewind, ModelState trained)
    {
        var tensors = mask.Entries.Select(e => KeyValuePair.Create(e.Key + MaskSet.KeySuffix, e.Value))
            .Concat(trained.Tensors.Select(t => KeyValuePair.Create(TrainedPrefix + t.Key, t.Value)));
        if (rewind is not null)
        {
            tensors = tensors.Concat(rewind.Tensors.Select(t => KeyValuePair.Create(RewindPrefix + t.Key, t.Value)));
        }

        SafeTensorsWriter.WriteWithChecksum(Path.Combine(folder, StateFileName), tensors, new Dictionary<string, string>
        {
            [FormatKey] = StateFormat,
            [VersionKey] = FormatVersion,
            [StateKey] = JsonSerializer.Serialize(state, Json),
        }, keepPrevious: true);
    }

    /// <summary>
    /// Loads the run state of <paramref name="folder"/>, or null when there is none. Falls back (logged) to the
    /// previous generation when the newest is missing or corrupt. Every field is validated against the model
    /// before anything is returned: checksum, run bookkeeping, tensor names, dtypes and shapes, and the mask's
    /// per-layer kept counts against the last accepted level's record.
    /// </summary>
    internal static (RunState State, MaskSet Mask, ModelState? Rewind, ModelState Trained)? LoadState(
        string folder, nn.Module model, IReadOnlyList<PrunableParameter> parameters, Device device, ILogger? logger = null)
    {
        var path = Path.Combine(folder, StateFileName);
        if (!File.Exists(path) && !File.Exists(SafeTensorsReader.PreviousGenerationPath(path)))
        {
            return null;
        }

        return SafeTensorsReader.ReadWithFallback(path, p => LoadStateFile(p, model, parameters, device), logger);
    }

    internal static (RunState State, MaskSet Mask, ModelState? Rewind, ModelState Trained) LoadStateFile(
        string path, nn.Module model, IReadOnlyList<PrunableParameter> parameters, Device device)
    {
        RunState state;
        var rewind = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var trained = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        MaskSet? mask = null;
        try
        {
            using (var reader = SafeTensorsReader.Open(path))
            {
                if (!reader.Metadata.TryGetValue(StateKey, out var json) || reader.Metadata.GetValueOrDefault(FormatKey) != StateFormat)
                {
                    throw new SparsityFormatException(path, "not an iterative-pruning state file.");
                }

                if (reader.Metadata.GetValueOrDefault(VersionKey) != FormatVersion)
                {
                    throw new SparsityFormatException(path, $"state format version '{reader.Metadata.GetValueOrDefault(VersionKey)}' is not {FormatVersion}.");
                }

                reader.VerifyChecksum();
                state = Deserialize<RunState>(json, path, "run state");
                if (StateFault(state) is { } fault)
                {
                    throw new SparsityFormatException(path, $"invalid run state: {fault}.");
                }

                ValidateStateTensors(reader, path, model, parameters);
                foreach (var info in reader.Tensors)
                {
                    if (info.Name.StartsWith(RewindPrefix, StringComparison.Ordinal))
                    {
                        rewind[info.Name[RewindPrefix.Length..]] = reader.ReadTensor(info.Name, device).DetachFromDisposeScope();
                    }
                    else if (info.Name.StartsWith(TrainedPrefix, StringComparison.Ordinal))
                    {
                        trained[info.Name[TrainedPrefix.Length..]] = reader.ReadTensor(info.Name, device).DetachFromDisposeScope();
                    }
                }
            }

            mask = MaskSet.Load(path, device);
            var budget = state.History.Last(r => r.Accepted).Layers;
            var wrong = budget.Where(l => !mask.Contains(l.Name) || mask.KeptIn(l.Name) != l.Kept).Select(l => l.Name).ToList();
            if (wrong.Count > 0 || budget.Count != mask.LayerCount)
            {
                throw new SparsityFormatException(path,
                    $"the mask's kept counts do not match the last accepted level's layer budget ({string.Join(", ", wrong.DefaultIfEmpty("layer count"))}).");
            }

            return (state, mask, rewind.Count > 0 ? ModelState.From(rewind) : null, ModelState.From(trained));
        }
        catch
        {
            mask?.Dispose();
            foreach (var t in rewind.Values.Concat(trained.Values))
            {
                t.Dispose();
            }

            throw;
        }
    }

    private static string? StateFault(RunState s)
    {
        if (string.IsNullOrWhiteSpace(s.Rewind) || s.Fractions is null || s.History is null)
        {
            return "no rewind point, fractions or history";
        }

        if (s.Fractions.Length == 0 || s.Fractions.Any(f => !(f > 0 && f < 1)))
        {
            return "fractions must be a non-empty list of numbers in (0, 1)";
        }

        if (s.LadderIndex < 0 || s.LadderIndex > s.Fractions.Length)
        {
            return $"ladder index {s.LadderIndex} outside [0, {s.Fractions.Length}]";
        }

        if (s.Stopped is { } stop && !Enum.IsDefined(stop))
        {
            return $"unknown stop reason {(int)stop}";
        }

        if (s.History.Count == 0 || s.History[0] is not { Level: 0, Accepted: true })
        {
            return "the history must start with the accepted dense level 0";
        }

        return s.History.Select(Fault).FirstOrDefault(f => f is not null);
    }

    private static void ValidateStateTensors(SafeTensorsReader reader, string path, nn.Module model, IReadOnlyList<PrunableParameter> parameters)
    {
        var live = model.state_dict();
        var masks = parameters.ToDictionary(p => p.Name + MaskSet.KeySuffix, p => p.Shape, StringComparer.Ordinal);
        bool anyRewind = false;
        foreach (var info in reader.Tensors)
        {
            string? key = info.Name.StartsWith(RewindPrefix, StringComparison.Ordinal) ? info.Name[RewindPrefix.Length..]
                : info.Name.StartsWith(TrainedPrefix, StringComparison.Ordinal) ? info.Name[TrainedPrefix.Length..]
                : null;
            anyRewind |= info.Name.StartsWith(RewindPrefix, StringComparison.Ordinal);
            if (key is not null)
            {
                if (!live.TryGetValue(key, out var t) || t.dtype != info.ScalarType || !t.shape.SequenceEqual(info.Shape))
                {
                    throw new SparsityFormatException(path, $"tensor '{info.Name}' does not match the model's '{key}' (name, dtype or shape).");
                }
            }
            else if (!masks.TryGetValue(info.Name, out var shape) || info.ScalarType != ScalarType.Bool || !shape.SequenceEqual(info.Shape))
            {
                throw new SparsityFormatException(path, $"unexpected tensor '{info.Name}' (not a mask of this model's prunable parameters).");
            }
        }

        var missing = live.Keys.Select(k => TrainedPrefix + k)
            .Concat(anyRewind ? live.Keys.Select(k => RewindPrefix + k) : [])
            .Concat(masks.Keys)
            .Where(k => !reader.Contains(k)).ToList();
        if (missing.Count > 0)
        {
            throw new SparsityFormatException(path, $"tensors missing: {string.Join(", ", missing)}.");
        }
    }
}

/// <summary>The bookkeeping of a run, stored as JSON in the state file.</summary>
internal sealed class RunState
{
    public string Rewind { get; set; } = "";

    public double[] Fractions { get; set; } = [];

    public int LadderIndex { get; set; }

    public List<LevelRecord> History { get; set; } = [];

    public StopReason? Stopped { get; set; }
}
