using static TorchSharp.torch;

namespace Sparsity.IO;

/// <summary>
/// Loads and saves a model's state dict (parameters and buffers, e.g. BatchNorm running statistics) as
/// safetensors, keyed by PyTorch state-dict names, so a checkpoint converted with
/// <c>safetensors.torch.save_file(model.state_dict(), path)</c> loads into the matching TorchSharp model.
/// </summary>
public static class StateDict
{
    /// <summary>
    /// Copies the file's tensors into the model's live parameters and buffers (in place, without autograd).
    /// Floating-point tensors may change precision (e.g. F16 file → Float32 model); other dtypes must match.
    /// </summary>
    /// <param name="model">The model to fill.</param>
    /// <param name="path">A safetensors file.</param>
    /// <param name="strict">
    /// When true (default), any missing, unexpected or mis-shaped key is an error and the model is left
    /// unchanged; when false, the matching keys are loaded and the others reported in the result.
    /// </param>
    /// <returns>What was loaded and what did not match.</returns>
    /// <exception cref="ArgumentException">Strict mode and the keys do not match; the message names every bad key.</exception>
    /// <exception cref="SparsityFormatException">The file is corrupt.</exception>
    public static StateDictLoadResult Load(nn.Module model, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var reader = SafeTensorsReader.Open(path);
        var state = model.state_dict();
        var loaded = new List<string>();
        var missing = new List<string>();
        var mismatched = new List<string>();
        foreach (var (key, live) in state)
        {
            if (!reader.Contains(key))
            {
                missing.Add(key);
                continue;
            }

            var info = reader.Info(key);
            var fileType = info.DType.ToScalarType();
            bool dtypeOk = fileType == live.dtype || (is_floating_point(live) && info.DType is SafeTensorsDType.F64 or SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16);
            if (!info.Shape.SequenceEqual(live.shape) || !dtypeOk)
            {
                mismatched.Add($"{key} (file [{string.Join(", ", info.Shape)}] {info.DType.Name()}, model [{string.Join(", ", live.shape)}] {live.dtype})");
                continue;
            }

            loaded.Add(key);
        }

        var unexpected = reader.Tensors.Select(t => t.Name).Where(n => !state.ContainsKey(n)).ToList();
        var result = new StateDictLoadResult(loaded, missing, unexpected, mismatched);
        if (strict && !result.IsExact)
        {
            throw new ArgumentException(
                $"{path} does not match the model ({model.GetType().Name}): " +
                $"missing [{string.Join(", ", missing)}]; unexpected [{string.Join(", ", unexpected)}]; mis-shaped [{string.Join(", ", mismatched)}]. " +
                "Nothing was loaded; pass strict: false to load the matching keys only.",
                nameof(path));
        }

        using var noGrad = no_grad();
        foreach (var key in loaded)
        {
            using var value = reader.ReadTensor(key, state[key].device);
            state[key].copy_(value);
        }

        return result;
    }

    /// <summary>Saves every parameter and buffer of the model (copied to CPU) with optional metadata.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">Target file; written to a temporary name and renamed.</param>
    /// <param name="metadata">String pairs stored as <c>__metadata__</c>.</param>
    public static void Save(nn.Module model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        SafeTensorsWriter.Write(path, model.state_dict(), metadata);
    }
}
