using System.Text.Json;
using System.Text.Json.Serialization;
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
    public static MaskSet Load(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = model.state_dict();
        using (var reader = SafeTensorsReader.Open(path))
        {
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
    public static LevelRecord ReadRecord(string path)
    {
        using var reader = SafeTensorsReader.Open(path);
        if (!reader.Metadata.TryGetValue(RecordKey, out var json))
        {
            throw new SparsityFormatException(path, "no level record in the metadata; not a ticket file.");
        }

        return JsonSerializer.Deserialize<LevelRecord>(json, Json)
            ?? throw new SparsityFormatException(path, "the level record is empty.");
    }

    internal static void SaveTicket(string path, MaskSet mask, ModelState start, LevelRecord record)
    {
        var tensors = mask.Entries.Select(e => KeyValuePair.Create(e.Key + MaskSet.KeySuffix, e.Value)).ToList();
        var weights = start.Masked(mask);
        try
        {
            SafeTensorsWriter.Write(path, tensors.Concat(weights), new Dictionary<string, string>
            {
                [FormatKey] = TicketFormat,
                ["format_version"] = "1",
                [RecordKey] = JsonSerializer.Serialize(record, Json),
            });
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

        SafeTensorsWriter.Write(Path.Combine(folder, StateFileName), tensors, new Dictionary<string, string>
        {
            [FormatKey] = StateFormat,
            ["format_version"] = "1",
            [StateKey] = JsonSerializer.Serialize(state, Json),
        });
    }

    internal static (RunState State, MaskSet Mask, ModelState? Rewind, ModelState Trained)? LoadState(string folder, Device device)
    {
        var path = Path.Combine(folder, StateFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        RunState state;
        var rewind = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var trained = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (var reader = SafeTensorsReader.Open(path))
        {
            if (!reader.Metadata.TryGetValue(StateKey, out var json) || reader.Metadata.GetValueOrDefault(FormatKey) != StateFormat)
            {
                throw new SparsityFormatException(path, "not an iterative-pruning state file.");
            }

            state = JsonSerializer.Deserialize<RunState>(json, Json) ?? throw new SparsityFormatException(path, "empty run state.");
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

        var mask = MaskSet.Load(path, device);
        return (state, mask, rewind.Count > 0 ? ModelState.From(rewind) : null, ModelState.From(trained));
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
