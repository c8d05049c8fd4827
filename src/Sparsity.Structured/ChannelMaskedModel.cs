using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>
/// The channel-masked reference of a compact model: while attached, the removed channels' activations are zeroed at
/// the output of every convolution, linear layer and batch norm and at the input of every one of them, so a removed
/// channel is zero wherever a layer reads it, also after residual additions and zero-padded shortcuts (which
/// zeroing weights alone does not achieve: a batch norm's β and a padded shortcut would still carry values).
/// Disposing detaches the hooks; the weights are never changed.
/// </summary>
public sealed class ChannelMaskedModel : IDisposable
{
    private readonly List<Action> _hooks = [];
    private readonly List<Tensor> _masks = [];

    private ChannelMaskedModel()
    {
    }

    /// <summary>Attaches the mask.</summary>
    /// <param name="model">The model the graph was discovered on (not compacted).</param>
    /// <param name="graph">Its channel groups.</param>
    /// <param name="mask">The channel mask.</param>
    /// <returns>A handle that detaches on dispose.</returns>
    /// <exception cref="ArgumentException">The mask or graph does not belong to the model.</exception>
    public static ChannelMaskedModel Attach(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, ChannelMask mask)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(mask);
        mask.EnsureFor(graph, nameof(mask));
        var entries = ChannelCompactor.MatchLayers(model, graph, nameof(graph));
        var kept = mask.KeptIndices(graph);
        var handle = new ChannelMaskedModel();
        foreach (var (layer, module) in entries)
        {
            var device = module.parameters().First().device;
            var inRole = layer.IsNorm ? ChannelRole.Norm : ChannelRole.Input;
            var outRole = layer.IsNorm ? ChannelRole.Norm : ChannelRole.Output;
            var inMask = handle.MaskVector(kept[(layer.Name, inRole)], layer.Width(inRole), device);
            var outMask = handle.MaskVector(kept[(layer.Name, outRole)], layer.Width(outRole), device);
            var kind = layer.Kind;
            if (inMask is not null)
            {
                handle._hooks.Add(module.register_forward_pre_hook((_, input) => Apply(input, inMask, kind)).remove);
            }

            if (outMask is not null)
            {
                handle._hooks.Add(module.register_forward_hook((_, _, output) => Apply(output, outMask, kind)).remove);
            }
        }

        return handle;
    }

    private Tensor? MaskVector(long[] kept, long width, Device device)
    {
        if (kept.Length == width)
        {
            return null;
        }

        var m = zeros(width, device: device);
        using var idx = tensor(kept, device: device);
        m.index_fill_(0, idx, 1.0);
        _masks.Add(m);
        return m;
    }

    private static Tensor Apply(Tensor t, Tensor mask, ChannelLayerKind kind)
    {
        var axis = LayerAccess.ChannelAxis(kind, t);
        var shape = Enumerable.Repeat(1L, (int)t.dim()).ToArray();
        shape[axis] = mask.shape[0];
        using var view = mask.to(t.dtype).view(shape);
        return t * view;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var remove in _hooks)
        {
            remove();
        }

        foreach (var m in _masks)
        {
            m.Dispose();
        }

        _hooks.Clear();
        _masks.Clear();
    }
}
