using System.Text.Json;
using Sparsity.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>
/// Saves a compact model as safetensors (the state dict, PyTorch key names) with every prunable layer's shape in the
/// metadata, and loads it into a freshly constructed model of the same architecture: the layers are resized from
/// the metadata first, then the tensors are loaded strictly. The original, uncompacted model is not needed.
/// </summary>
public static class CompactModelFile
{
    /// <summary>The metadata key holding the layer shapes (a JSON array of name, kind, in, out, groups).</summary>
    public const string LayersMetadataKey = "sparsity.structured.layers";

    /// <summary>Writes the model's state dict and its layer shapes to <paramref name="path"/> (temporary file + rename).</summary>
    /// <param name="model">A model, compact or not.</param>
    /// <param name="path">The target file.</param>
    /// <exception cref="NotSupportedException">The model holds a module structured pruning cannot resize (named).</exception>
    public static void Save(nn.Module<Tensor, Tensor> model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var layers = LayerAccess.Enumerate(model, nameof(model)).Select(e => e.Layer).ToList();
        var json = JsonSerializer.Serialize(layers.Select(l => new LayerShape(l.Name, l.Kind.ToString(), l.InputChannels, l.OutputChannels, l.Groups)).ToList());
        StateDict.Save(model, path, new Dictionary<string, string> { [LayersMetadataKey] = json });
    }

    /// <summary>
    /// Resizes the layers of <paramref name="model"/> (freshly constructed, same architecture) to the shapes in the
    /// file and loads every tensor. Every check runs before anything changes: on an error the model is unchanged.
    /// </summary>
    /// <param name="model">A model of the architecture that was saved.</param>
    /// <param name="path">A file written by <see cref="Save"/>.</param>
    /// <exception cref="ArgumentException">The file has no layer metadata, names a layer the model lacks or of another
    /// kind, or a tensor is missing, unexpected or mis-shaped; the message names each.</exception>
    public static void Load(nn.Module<Tensor, Tensor> model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var entries = LayerAccess.Enumerate(model, nameof(model));
        List<LayerShape> shapes;
        var problems = new List<string>();
        using (var reader = SafeTensorsReader.Open(path))
        {
            if (!reader.Metadata.TryGetValue(LayersMetadataKey, out var json))
            {
                throw new ArgumentException($"{path} has no '{LayersMetadataKey}' metadata; it was not written by CompactModelFile.Save.", nameof(path));
            }

            shapes = JsonSerializer.Deserialize<List<LayerShape>>(json) ?? [];
            var byName = entries.ToDictionary(e => e.Layer.Name);
            foreach (var s in shapes)
            {
                if (!byName.TryGetValue(s.Name, out var e))
                {
                    problems.Add($"layer '{s.Name}' is not in the model");
                }
                else if (e.Layer.Kind.ToString() != s.Kind)
                {
                    problems.Add($"layer '{s.Name}' is {e.Layer.Kind} in the model and {s.Kind} in the file");
                }
                else if (s.In < 1 || s.Out < 1 || s.Groups < 1 || s.In % s.Groups != 0 || s.Out % s.Groups != 0)
                {
                    problems.Add($"layer '{s.Name}' has an invalid shape in the file (in {s.In}, out {s.Out}, groups {s.Groups})");
                }
            }

            foreach (var e in entries.Where(e => shapes.All(s => s.Name != e.Layer.Name)))
            {
                problems.Add($"layer '{e.Layer.Name}' of the model is not in the file");
            }

            if (problems.Count == 0)
            {
                var expected = ExpectedShapes(model, entries, shapes);
                foreach (var (key, shape) in expected)
                {
                    if (!reader.Contains(key))
                    {
                        problems.Add($"tensor '{key}' is missing");
                    }
                    else if (!reader.Info(key).Shape.SequenceEqual(shape))
                    {
                        problems.Add($"tensor '{key}' is [{string.Join(", ", reader.Info(key).Shape)}] in the file, expected [{string.Join(", ", shape)}]");
                    }
                }

                problems.AddRange(reader.Tensors.Select(t => t.Name).Where(n => !expected.ContainsKey(n)).Select(n => $"tensor '{n}' is not in the model"));
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"{path} does not fit the model ({model.GetType().Name}): {string.Join("; ", problems)}. The model is unchanged.", nameof(path));
        }

        foreach (var (layer, module) in entries)
        {
            var s = shapes.Single(x => x.Name == layer.Name);
            if (s.In == layer.InputChannels && s.Out == layer.OutputChannels && s.Groups == layer.Groups)
            {
                continue;
            }

            Resize(layer, module, s);
        }

        StateDict.Load(model, path, strict: true);
    }

    private static Dictionary<string, long[]> ExpectedShapes(nn.Module model, List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> entries, List<LayerShape> shapes)
    {
        var result = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        foreach (var (layer, module) in entries)
        {
            var s = shapes.Single(x => x.Name == layer.Name);
            var prefix = layer.Name + ".";
            foreach (var key in result.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !k[prefix.Length..].Contains('.')).ToList())
            {
                var local = key[prefix.Length..];
                var current = result[key];
                result[key] = (layer.Kind, local) switch
                {
                    (ChannelLayerKind.Conv1d or ChannelLayerKind.Conv2d, "weight") => [s.Out, s.In / s.Groups, .. current[2..]],
                    (ChannelLayerKind.Linear, "weight") => [s.Out, s.In],
                    (_, "num_batches_tracked") => current,
                    _ when current.Length == 1 => [s.Out],
                    _ => current,
                };
            }
        }

        return result;
    }

    private static void Resize(ChannelLayer layer, nn.Module module, LayerShape s)
    {
        using var noGrad = no_grad();
        var state = module.state_dict();
        var device = state.Values.First().device;
        var dtype = state.TryGetValue("weight", out var w0) ? w0.dtype : ScalarType.Float32;
        Tensor? Vector(string key) => state.ContainsKey(key) ? zeros(s.Out, dtype: state[key].dtype, device: device) : null;
        Tensor? weight = layer.Kind switch
        {
            ChannelLayerKind.Conv1d or ChannelLayerKind.Conv2d => zeros([s.Out, s.In / s.Groups, .. state["weight"].shape[2..]], dtype: dtype, device: device),
            ChannelLayerKind.Linear => zeros([s.Out, s.In], dtype: dtype, device: device),
            _ => Vector("weight"),
        };
        LayerAccess.Replace(module, weight, Vector("bias"), Vector("running_mean"), Vector("running_var"), s.Groups);
    }

    private sealed record LayerShape(string Name, string Kind, long In, long Out, long Groups);
}
