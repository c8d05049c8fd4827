using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>What a compaction changed.</summary>
/// <param name="ParametersBefore">Parameter elements before.</param>
/// <param name="ParametersAfter">Parameter elements after.</param>
/// <param name="RemovedChannels">Group channels removed.</param>
/// <param name="Layers">The layers with their new widths, in module order.</param>
public sealed record CompactionReport(long ParametersBefore, long ParametersAfter, long RemovedChannels, IReadOnlyList<ChannelLayer> Layers);

/// <summary>
/// Rebuilds a model in place with physically smaller layers: every Conv1d/Conv2d, Linear and BatchNorm keeps only
/// the channels a <see cref="ChannelMask"/> keeps (weights, biases and running statistics sliced; a grouped or
/// depthwise convolution loses whole groups and its group count follows), so the model's own <c>forward</c> runs
/// unchanged and computes the channel-masked model's logits (<see cref="ChannelMaskedModel"/>).
/// </summary>
public sealed class ChannelCompactor
{
    /// <summary>Compacts <paramref name="model"/> in place. Nothing is changed when an argument is rejected.</summary>
    /// <param name="model">The model the graph was discovered on, not yet compacted.</param>
    /// <param name="graph">Its channel groups.</param>
    /// <param name="mask">Which channels to keep.</param>
    /// <returns>The parameter counts and the new layer widths.</returns>
    /// <exception cref="ArgumentException">The mask or graph does not belong to the model (the message names which).</exception>
    /// <exception cref="NotSupportedException">The model holds a module structured pruning cannot resize (named).</exception>
    public CompactionReport Compact(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, ChannelMask mask)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(mask);
        mask.EnsureFor(graph, nameof(mask));
        var entries = MatchLayers(model, graph, nameof(graph));
        var before = model.parameters().Sum(p => p.numel());
        var kept = mask.KeptIndices(graph);
        Apply(entries, kept);
        var layers = entries.Select(e => LayerAccess.Describe(e.Layer.Name, e.Module)!).ToList();
        return new CompactionReport(before, model.parameters().Sum(p => p.numel()), mask.RemovedChannelCount, layers);
    }

    /// <summary>The model's layers, checked against the graph's names, kinds and widths.</summary>
    internal static List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> MatchLayers(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, string argumentName)
    {
        var entries = LayerAccess.Enumerate(model, nameof(model));
        if (entries.Count != graph.Layers.Count)
        {
            throw new ArgumentException($"The graph lists {graph.Layers.Count} layers; the model has {entries.Count}: it was discovered on another model.", argumentName);
        }

        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Layer != graph.Layers[i])
            {
                throw new ArgumentException(
                    $"Layer {i} of the model is {entries[i].Layer}; the graph expects {graph.Layers[i]}. The graph belongs to another model " +
                    "or the model was already compacted; discover the groups of this model.", argumentName);
            }
        }

        return entries;
    }

    /// <summary>Slices every layer to the kept channels. Builds every new tensor before replacing any.</summary>
    internal static void Apply(List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> entries, Dictionary<(string Layer, ChannelRole Role), long[]> kept)
    {
        var replacements = new List<(nn.Module Module, Tensor? W, Tensor? B, Tensor? Rm, Tensor? Rv, long Groups)>();
        using (no_grad())
        {
            foreach (var (layer, module) in entries)
            {
                replacements.Add(Slice(layer, module, kept));
            }
        }

        foreach (var (module, w, b, rm, rv, groups) in replacements)
        {
            if (w is null && b is null && rm is null && rv is null)
            {
                continue;
            }

            LayerAccess.Replace(module, w, b, rm, rv, groups);
        }
    }

    private static (nn.Module, Tensor?, Tensor?, Tensor?, Tensor?, long) Slice(ChannelLayer layer, nn.Module module, Dictionary<(string, ChannelRole), long[]> kept)
    {
        switch (module)
        {
            case Convolution conv:
            {
                var keptOut = kept[(layer.Name, ChannelRole.Output)];
                var keptIn = kept[(layer.Name, ChannelRole.Input)];
                if (keptOut.Length == layer.OutputChannels && keptIn.Length == layer.InputChannels)
                {
                    return (module, null, null, null, null, layer.Groups);
                }

                var device = conv.weight.device;
                using var outIdx = tensor(keptOut, device: device);
                var w = conv.weight.index_select(0, outIdx);
                long groups = layer.Groups;
                if (layer.Groups == 1)
                {
                    using var inIdx = tensor(keptIn, device: device);
                    using var old = w;
                    w = old.index_select(1, inIdx);
                }
                else
                {
                    var perGroupIn = layer.InputChannels / layer.Groups;
                    var perGroupOut = layer.OutputChannels / layer.Groups;
                    if (keptIn.Length % perGroupIn != 0 || keptOut.Length != keptIn.Length / perGroupIn * perGroupOut)
                    {
                        throw new NotSupportedException($"Module '{layer.Name}': the kept channels do not form whole convolution groups.");
                    }

                    groups = keptIn.Length / perGroupIn;
                }

                var b = conv.bias?.index_select(0, outIdx);
                return (module, w, b, null, null, groups);
            }

            case Linear linear:
            {
                var keptOut = kept[(layer.Name, ChannelRole.Output)];
                var keptIn = kept[(layer.Name, ChannelRole.Input)];
                if (keptOut.Length == layer.OutputChannels && keptIn.Length == layer.InputChannels)
                {
                    return (module, null, null, null, null, 1);
                }

                var device = linear.weight.device;
                using var outIdx = tensor(keptOut, device: device);
                using var inIdx = tensor(keptIn, device: device);
                using var rows = linear.weight.index_select(0, outIdx);
                var w = rows.index_select(1, inIdx);
                var b = linear.bias?.index_select(0, outIdx);
                return (module, w, b, null, null, 1);
            }

            case NormBase bn:
            {
                var keptNorm = kept[(layer.Name, ChannelRole.Norm)];
                if (keptNorm.Length == layer.OutputChannels)
                {
                    return (module, null, null, null, null, 1);
                }

                var device = (bn.weight ?? bn.running_mean)!.device;
                using var idx = tensor(keptNorm, device: device);
                return (module, bn.weight?.index_select(0, idx), bn.bias?.index_select(0, idx),
                    bn.running_mean?.index_select(0, idx), bn.running_var?.index_select(0, idx), 1);
            }

            default:
                throw new NotSupportedException($"Module '{layer.Name}' ({module.GetType().Name}) cannot be resized.");
        }
    }

    /// <summary>Copies of the tensors of the given layers, to restore them with <see cref="Restore"/>.</summary>
    internal static List<(nn.Module Module, Tensor? W, Tensor? B, Tensor? Rm, Tensor? Rv, long Groups)> Snapshot(
        IEnumerable<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> entries)
    {
        var result = new List<(nn.Module, Tensor?, Tensor?, Tensor?, Tensor?, long)>();
        using var noGrad = no_grad();
        foreach (var (layer, module) in entries)
        {
            switch (module)
            {
                case Convolution conv:
                    result.Add((module, conv.weight.detach().clone(), conv.bias?.detach().clone(), null, null, conv.groups));
                    break;
                case Linear linear:
                    result.Add((module, linear.weight.detach().clone(), linear.bias?.detach().clone(), null, null, 1));
                    break;
                case NormBase bn:
                    result.Add((module, bn.weight?.detach().clone(), bn.bias?.detach().clone(), bn.running_mean?.clone(), bn.running_var?.clone(), 1));
                    break;
                default:
                    throw new NotSupportedException($"Module '{layer.Name}' cannot be resized.");
            }
        }

        return result;
    }

    /// <summary>Puts back the tensors of a <see cref="Snapshot"/>.</summary>
    internal static void Restore(List<(nn.Module Module, Tensor? W, Tensor? B, Tensor? Rm, Tensor? Rv, long Groups)> snapshot)
    {
        foreach (var (module, w, b, rm, rv, groups) in snapshot)
        {
            LayerAccess.Replace(module, w, b, rm, rv, groups);
        }
    }
}
