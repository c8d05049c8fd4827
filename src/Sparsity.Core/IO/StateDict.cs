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
    /// Floating-point tensors may change precision (e.g. F16 file → Float32 model). An integer tensor loads into
    /// a floating-point one, and a floating-point tensor into an integer one, only when every value survives the
    /// conversion exactly (checked before anything is written); other dtypes must match.
    /// </summary>
    /// <remarks>
    /// The integer/floating case is BatchNorm's <c>num_batches_tracked</c>: PyTorch stores it as int64, and so does
    /// TorchSharp's default constructor (<c>Module.to(float64)</c> leaves it int64), but TorchSharp's
    /// <c>BatchNorm2d(…, dtype: ScalarType.Float64)</c> creates it as Float64. Such a float64 model loads a PyTorch
    /// checkpoint (counters up to 2^53 are exact in Float64, up to 2^24 in Float32), and a checkpoint saved from it
    /// (a Float64 counter) loads back into an int64 counter.
    /// </remarks>
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
            bool fileFloating = info.DType is SafeTensorsDType.F64 or SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16;
            bool fileInteger = info.DType is SafeTensorsDType.I64 or SafeTensorsDType.I32 or SafeTensorsDType.U8;
            bool liveFloating = is_floating_point(live);
            bool liveInteger = live.dtype is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte;
            bool sameKind = fileType == live.dtype || (liveFloating && fileFloating);
            bool convertible = (fileInteger && liveFloating) || (fileFloating && liveInteger);
            if (!info.Shape.SequenceEqual(live.shape) || !(sameKind || convertible))
            {
                mismatched.Add($"{key} (file [{string.Join(", ", info.Shape)}] {info.DType.Name()}, model [{string.Join(", ", live.shape)}] {live.dtype})");
                continue;
            }

            if (!sameKind && !ConvertsExactly(reader, key, live.dtype))
            {
                mismatched.Add($"{key} (file {info.DType.Name()} values are not exactly representable in the model's {live.dtype})");
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

    private static bool ConvertsExactly(SafeTensorsReader reader, string key, ScalarType target)
    {
        using var scope = NewDisposeScope();
        var value = reader.ReadTensor(key);
        var back = value.to(target).to(value.dtype);
        return back.eq(value).all().item<bool>(); // NaN never compares equal, so a NaN never loads into an integer
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
