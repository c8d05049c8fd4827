using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>Finds the prunable layers of a model and reads or replaces their tensors.</summary>
internal static class LayerAccess
{
    /// <summary>The supported layers in <c>named_modules()</c> order; throws for a module it cannot handle.</summary>
    internal static List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> Enumerate(nn.Module model, string argumentName)
    {
        if (model.named_parameters(recurse: false).Any() || model.named_buffers(recurse: false).Any())
        {
            throw new NotSupportedException(
                $"The model's root module ({model.GetType().Name}) owns parameters or buffers directly; structured pruning supports " +
                "parameters only inside Conv1d, Conv2d, Linear, BatchNorm1d and BatchNorm2d modules.");
        }

        var layers = new List<(ChannelLayer, nn.Module<Tensor, Tensor>)>();
        foreach (var (name, module) in model.named_modules())
        {
            var layer = Describe(name, module);
            if (layer is not null)
            {
                layers.Add((layer, (nn.Module<Tensor, Tensor>)module));
                continue;
            }

            if (module.named_parameters(recurse: false).Any() || module.named_buffers(recurse: false).Any())
            {
                throw new NotSupportedException(
                    $"Module '{name}' ({module.GetType().Name}) owns parameters or buffers but is not a layer structured pruning can " +
                    "resize (Conv1d, Conv2d, Linear, BatchNorm1d, BatchNorm2d). Remove it from the model or prune another way.");
            }
        }

        if (layers.Count == 0)
        {
            throw new ArgumentException("The model has no Conv1d, Conv2d, Linear or BatchNorm layer.", argumentName);
        }

        return layers;
    }

    /// <summary>The layer description of a supported module from its current tensors, or null.</summary>
    internal static ChannelLayer? Describe(string name, nn.Module module)
    {
        switch (module)
        {
            case Convolution conv when conv is Conv1d or Conv2d:
                if (conv.transposed)
                {
                    return null;
                }

                var w = conv.weight;
                return new ChannelLayer(name, conv is Conv1d ? ChannelLayerKind.Conv1d : ChannelLayerKind.Conv2d,
                    w.shape[1] * conv.groups, w.shape[0], conv.groups);
            case Linear linear:
                return new ChannelLayer(name, ChannelLayerKind.Linear, linear.weight.shape[1], linear.weight.shape[0], 1);
            case BatchNorm1d or BatchNorm2d:
                var bn = (NormBase)module;
                var n = bn.weight?.shape[0] ?? bn.running_mean?.shape[0] ?? bn.num_features;
                return new ChannelLayer(name, module is BatchNorm1d ? ChannelLayerKind.BatchNorm1d : ChannelLayerKind.BatchNorm2d, n, n, 1);
            default:
                return null;
        }
    }

    /// <summary>The dimension that holds channels in a layer's input and output (last for Linear, 1 otherwise).</summary>
    internal static int ChannelAxis(ChannelLayerKind kind, Tensor t) => kind == ChannelLayerKind.Linear ? (int)t.dim() - 1 : 1;

    /// <summary>Per batch element and channel, the largest absolute value of <paramref name="t"/>: shape [B, C].</summary>
    internal static Tensor PerChannelMax(Tensor t, int axis)
    {
        var moved = axis == 1 ? t : t.movedim([(long)axis], [1L]);
        var abs = moved.abs();
        if (abs.dim() == 2)
        {
            return abs;
        }

        return abs.flatten(2).amax(2);
    }

    /// <summary>Replaces the weight (and bias, running statistics) of a layer and updates its recorded widths.</summary>
    internal static void Replace(nn.Module module, Tensor? weight, Tensor? bias, Tensor? runningMean, Tensor? runningVar, long groups)
    {
        switch (module)
        {
            case Convolution conv:
                ArgumentNullException.ThrowIfNull(weight);
                var convShape = weight.shape;
                var oldW = conv.weight;
                conv.weight = new Parameter(weight, oldW.requires_grad);
                if (bias is not null)
                {
                    conv.bias = new Parameter(bias, conv.bias?.requires_grad ?? true);
                }

                conv.groups = groups;
                SetField(typeof(Convolution), conv, "<in_channels>k__BackingField", convShape[1] * groups);
                SetField(typeof(Convolution), conv, "<out_channels>k__BackingField", convShape[0]);
                SetField(typeof(Convolution), conv, "input_channels", convShape[1] * groups);
                break;
            case Linear linear:
                ArgumentNullException.ThrowIfNull(weight);
                var linearShape = weight.shape;
                var lw = linear.weight;
                linear.weight = new Parameter(weight, lw.requires_grad);
                if (bias is not null)
                {
                    linear.bias = new Parameter(bias, linear.bias?.requires_grad ?? true);
                }

                linear.in_features = linearShape[1];
                linear.out_features = linearShape[0];
                break;
            case NormBase bn:
                var features = runningMean?.shape[0] ?? weight?.shape[0] ?? bn.num_features;
                if (bn.weight is not null && weight is not null)
                {
                    bn.weight = new Parameter(weight, bn.weight.requires_grad);
                }

                if (bias is not null)
                {
                    bn.bias = new Parameter(bias, bn.bias?.requires_grad ?? true);
                }

                if (runningMean is not null)
                {
                    bn.running_mean = runningMean.DetachFromDisposeScope();
                }

                if (runningVar is not null)
                {
                    bn.running_var = runningVar.DetachFromDisposeScope();
                }

                SetField(typeof(NormBase), bn, "<num_features>k__BackingField", features);
                break;
            default:
                throw new NotSupportedException($"{module.GetType().Name} cannot be resized.");
        }
    }

    private static void SetField(Type type, object target, string field, long value)
    {
        var info = type.GetField(field, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            ?? throw new NotSupportedException($"This TorchSharp version has no field {type.Name}.{field}; structured pruning needs it to resize a convolution.");
        info.SetValue(target, value);
    }
}
