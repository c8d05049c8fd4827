using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Training;

/// <summary>
/// A training checkpoint: one safetensors file holding the model's state dict (parameters and buffers such
/// as BatchNorm running statistics, under their state-dict keys), the SGD momentum buffers (under
/// <c>optimizer/momentum/&lt;parameter name&gt;</c>) and metadata (format, epoch, epochs, seed, options
/// fingerprint, accuracy, per-epoch history as JSON) with a SHA-256 checksum of the content. Written atomically
/// (temporary file, then rename); the replaced file is kept as <c>checkpoint.safetensors.prev</c>, which
/// <see cref="Trainer.Resume"/> falls back to (with a logged warning) when the newest is truncated or corrupt.
/// </summary>
/// <param name="Path">The file.</param>
/// <param name="Epoch">Epochs completed when it was written (0 = before training).</param>
/// <param name="Epochs">Epochs the run was set up for.</param>
/// <param name="Seed">The run's <see cref="TrainingOptions.Seed"/>.</param>
/// <param name="OptionsFingerprint">The run's <see cref="TrainingOptions.Fingerprint"/>.</param>
/// <param name="History">Records of the completed epochs.</param>
public sealed record TrainingCheckpoint(string Path, int Epoch, int Epochs, long Seed, string OptionsFingerprint, IReadOnlyList<EpochRecord> History)
{
    /// <summary>File name of the checkpoint inside <see cref="TrainingOptions.CheckpointFolder"/>.</summary>
    public const string FileName = "checkpoint.safetensors";

    /// <summary>Value of the <c>format</c> metadata entry.</summary>
    public const string FormatName = "sparsity-training-checkpoint/2";

    /// <summary>The format written before checkpoints carried a checksum; still read (without content verification).</summary>
    private const string LegacyFormatName = "sparsity-training-checkpoint/1";

    /// <summary>Key prefix of the optimiser's momentum buffers.</summary>
    public const string MomentumPrefix = "optimizer/momentum/";

    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Test accuracy (percent) after the last completed epoch, or null.</summary>
    public double? TestAccuracy => History.Count == 0 ? null : History[^1].TestAccuracy;

    /// <summary>Reads a checkpoint's metadata (not its tensors).</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <exception cref="SparsityFormatException">The file is corrupt or not a Sparsity training checkpoint.</exception>
    public static TrainingCheckpoint Read(string path)
    {
        using var reader = SafeTensorsReader.Open(path);
        return FromMetadata(path, reader);
    }

    /// <summary>
    /// Copies the checkpoint's weights and buffers into <paramref name="model"/> (every state-dict key must be
    /// present with its shape; optimiser entries are ignored) and returns the metadata.
    /// </summary>
    /// <param name="model">The model, built like the one that was trained.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <exception cref="SparsityFormatException">The file is corrupt or not a training checkpoint.</exception>
    /// <exception cref="ArgumentException">The model's keys or shapes differ from the file's; nothing is loaded.</exception>
    public static TrainingCheckpoint LoadModel(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        TrainingCheckpoint info;
        using (var reader = SafeTensorsReader.Open(path))
        {
            info = FromMetadata(path, reader);
            ValidateMomentum(reader, path, model);
        }

        var result = StateDict.Load(model, path, strict: false);
        var unexpected = result.Unexpected.Where(k => !k.StartsWith(MomentumPrefix, StringComparison.Ordinal)).ToList();
        if (result.Missing.Count > 0 || result.Mismatched.Count > 0 || unexpected.Count > 0)
        {
            throw new ArgumentException(
                $"{path} does not match the model ({model.GetType().Name}): missing [{string.Join(", ", result.Missing)}]; " +
                $"unexpected [{string.Join(", ", unexpected)}]; mis-shaped [{string.Join(", ", result.Mismatched)}].",
                nameof(model));
        }

        return info;
    }

    /// <summary>Writes a checkpoint atomically into <paramref name="folder"/>; returns its path.</summary>
    internal static string Write(string folder, nn.Module model, IReadOnlyList<string> parameterNames, optim.Optimizer optimizer,
        int epoch, TrainingOptions options, IReadOnlyList<EpochRecord> history)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        var tensors = new List<KeyValuePair<string, Tensor>>(model.state_dict());
        var states = ((TorchSharp.Modules.OptimizerHelper)optimizer).state_dict().State;
        for (int i = 0; i < parameterNames.Count; i++)
        {
            if (states[i] is TorchSharp.Modules.SGD.State { momentum_buffer: { } buffer })
            {
                tensors.Add(KeyValuePair.Create(MomentumPrefix + parameterNames[i], buffer));
            }
        }

        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["options"] = options.Fingerprint(),
            ["history"] = JsonSerializer.Serialize(history, Json),
        };
        if (history.Count > 0)
        {
            var last = history[^1];
            metadata["loss"] = last.Loss.ToString("R", CultureInfo.InvariantCulture);
            metadata["train_accuracy"] = last.TrainAccuracy.ToString("R", CultureInfo.InvariantCulture);
            if (last.TestAccuracy is { } acc)
            {
                metadata["test_accuracy"] = acc.ToString("R", CultureInfo.InvariantCulture);
            }
        }

        SafeTensorsWriter.WriteWithChecksum(path, tensors, metadata, keepPrevious: true);
        return path;
    }

    /// <summary>Restores the momentum buffers saved in <paramref name="path"/> into a fresh SGD optimiser.</summary>
    internal static void LoadMomentum(string path, IReadOnlyList<string> parameterNames, optim.Optimizer optimizer, Device device)
    {
        using var reader = SafeTensorsReader.Open(path);
        var states = ((TorchSharp.Modules.OptimizerHelper)optimizer).state_dict().State;
        var names = new HashSet<string>(parameterNames, StringComparer.Ordinal);
        foreach (var info in reader.Tensors.Where(t => t.Name.StartsWith(MomentumPrefix, StringComparison.Ordinal)))
        {
            if (!names.Contains(info.Name[MomentumPrefix.Length..]))
            {
                throw new ArgumentException($"{path} holds momentum for '{info.Name[MomentumPrefix.Length..]}', which the model does not have.", nameof(path));
            }
        }

        for (int i = 0; i < parameterNames.Count; i++)
        {
            var key = MomentumPrefix + parameterNames[i];
            var state = (TorchSharp.Modules.SGD.State)states[i];
            state.momentum_buffer?.Dispose();
            state.momentum_buffer = reader.Contains(key) ? reader.ReadTensor(key, device).DetachFromDisposeScope() : null!;
        }
    }

    /// <summary>Every momentum entry names a parameter of the model and has its shape and dtype.</summary>
    private static void ValidateMomentum(SafeTensorsReader reader, string path, nn.Module model)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        foreach (var info in reader.Tensors.Where(t => t.Name.StartsWith(MomentumPrefix, StringComparison.Ordinal)))
        {
            var name = info.Name[MomentumPrefix.Length..];
            if (parameters.TryGetValue(name, out var p) && (p.dtype != info.ScalarType || !p.shape.SequenceEqual(info.Shape)))
            {
                throw new SparsityFormatException(path,
                    $"momentum of '{name}' is {info.ScalarType} [{string.Join(", ", info.Shape)}] but the parameter is {p.dtype} [{string.Join(", ", p.shape)}].");
            }
        }
    }

    private static TrainingCheckpoint FromMetadata(string path, SafeTensorsReader reader)
    {
        var metadata = reader.Metadata;
        string Get(string key) => metadata.TryGetValue(key, out var v)
            ? v
            : throw new SparsityFormatException(path, $"the metadata has no '{key}' entry; this is not a Sparsity training checkpoint.");

        var format = Get("format");
        if (format == FormatName)
        {
            reader.VerifyChecksum();
        }
        else if (format != LegacyFormatName)
        {
            throw new SparsityFormatException(path, $"format '{format}' is not '{FormatName}'.");
        }

        if (!int.TryParse(Get("epoch"), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) ||
            !int.TryParse(Get("epochs"), NumberStyles.None, CultureInfo.InvariantCulture, out var epochs) ||
            !long.TryParse(Get("seed"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed) || epochs < 1 || epoch > epochs)
        {
            throw new SparsityFormatException(path, "the epoch, epochs or seed metadata is not a valid number (epoch must lie in [0, epochs], epochs ≥ 1).");
        }

        List<EpochRecord>? history;
        try
        {
            history = JsonSerializer.Deserialize<List<EpochRecord>>(Get("history"), Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new SparsityFormatException(path, $"the history metadata is not valid JSON ({e.Message}).", e);
        }

        if (history is null || history.Count != epoch)
        {
            throw new SparsityFormatException(path, $"the history holds {history?.Count ?? 0} epochs but the checkpoint is at epoch {epoch}.");
        }

        for (int i = 0; i < history.Count; i++)
        {
            var r = history[i];
            if (r is null || r.Epoch != i + 1 || !double.IsFinite(r.LearningRate) || r.LearningRate < 0
                || !(double.IsNaN(r.TrainAccuracy) || r.TrainAccuracy is >= 0 and <= 100) || r.TestAccuracy is { } t && !(t is >= 0 and <= 100) || !(r.Seconds >= 0) || double.IsPositiveInfinity(r.Seconds))
            {
                throw new SparsityFormatException(path, $"history record {i + 1} is out of order or out of range.");
            }
        }

        var options = Get("options");
        if (string.IsNullOrWhiteSpace(options))
        {
            throw new SparsityFormatException(path, "the options fingerprint is empty.");
        }

        return new TrainingCheckpoint(path, epoch, epochs, seed, options, history);
    }
}
