using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.IO;

/// <summary>
/// Writes an N:M-masked model in the layout PyTorch's <c>torch.sparse.to_sparse_semi_structured</c> takes: per
/// layer the masked dense weight as a 2-d [out, r] matrix (r = in for Linear, in·kh·kw for Conv2d, the weight
/// flattened per output row) whose zeros follow the pattern along the last dimension, plus its bool mask.
/// </summary>
/// <remarks>
/// <para>Tensors: <c>&lt;name&gt;</c> (the weight's dtype, W ⊙ M reshaped to [out, r]) and
/// <c>&lt;name&gt;_mask</c> (BOOL, [out, r]) for every layer whose mask follows the pattern; metadata
/// <c>format = sparsity.semi_structured</c>, <c>format_version = 1</c>, <c>pattern</c> ("2:4"),
/// <c>layers</c> (JSON: name → original weight shape, so a reader can reshape Conv2d weights back) and
/// <c>dense_layers</c> (JSON list of masked layers kept whole, which are not written). In PyTorch ≥ 2.1 on an
/// Ampere (or later) GPU: <c>to_sparse_semi_structured(w.half().cuda())</c> for a 2:4 file; the kernels take
/// 2:4 (and 1:2 for float32) only, so other N:M patterns are for analysis.</para>
/// <para>Written under a temporary name and renamed; nothing is written when a check fails.</para>
/// </remarks>
public static class SemiStructuredExport
{
    /// <summary>The <c>format</c> metadata value.</summary>
    public const string FormatName = "sparsity.semi_structured";

    /// <summary>
    /// Exports the masked weights of <paramref name="model"/>. Every layer of <paramref name="masks"/> must either
    /// follow <paramref name="pattern"/> in every group or keep every weight (then it is listed as dense and not written).
    /// </summary>
    /// <param name="path">Target safetensors file.</param>
    /// <param name="model">The model whose dense weights are masked (read, not changed).</param>
    /// <param name="masks">The N:M masks, keyed by state-dict name.</param>
    /// <param name="pattern">The pattern the masks follow.</param>
    /// <exception cref="ArgumentException">A mask names no weight of the model, has another shape, or breaks the pattern.</exception>
    public static void Save(string path, nn.Module model, MaskSet masks, NMPattern pattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(masks);
        ArgumentNullException.ThrowIfNull(pattern);
        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var dense = new List<string>();
        try
        {
            foreach (var (name, mask) in masks.Entries)
            {
                if (!weights.TryGetValue(name, out var w))
                {
                    throw new ArgumentException($"Mask '{name}' names no parameter of the model; was it made for another model?", nameof(masks));
                }

                if (!w.shape.SequenceEqual(mask.shape))
                {
                    throw new ArgumentException(
                        $"Mask '{name}' has shape [{string.Join(", ", mask.shape)}] but the weight has [{string.Join(", ", w.shape)}].", nameof(masks));
                }

                if (masks.KeptIn(name) == mask.numel())
                {
                    dense.Add(name);
                    continue;
                }

                pattern.CheckFits(mask.shape, nameof(masks), $"mask '{name}'");
                long bad = pattern.Violations(mask);
                if (bad > 0)
                {
                    throw new ArgumentException(
                        $"Mask '{name}' breaks the {pattern} pattern in {bad} group(s); make it with NMAllocation or an N:M mask search.", nameof(masks));
                }

                using var scope = NewDisposeScope();
                long rows = mask.dim() == 1 ? 1 : mask.shape[0];
                var m2 = mask.detach().cpu().reshape(rows, -1).contiguous();
                var w2 = w.detach().cpu().mul(mask.detach().cpu().to(w.dtype)).reshape(rows, -1).contiguous();
                tensors.Add(KeyValuePair.Create(name, w2.DetachFromDisposeScope()));
                tensors.Add(KeyValuePair.Create(name + MaskSet.KeySuffix, m2.DetachFromDisposeScope()));
                shapes[name] = mask.shape;
            }

            if (tensors.Count == 0)
            {
                throw new ArgumentException($"No layer of the masks follows the {pattern} pattern (every layer is dense); nothing to export.", nameof(masks));
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["format"] = FormatName,
                ["format_version"] = "1",
                ["pattern"] = pattern.ToString(),
                ["layers"] = JsonSerializer.Serialize(shapes),
                ["dense_layers"] = JsonSerializer.Serialize(dense),
            };
            SafeTensorsWriter.Write(path, tensors, metadata);
        }
        finally
        {
            tensors.ForEach(t => t.Value.Dispose());
        }
    }
}
