using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>
/// Forward hooks for channel probing. In record mode every layer's input and output are stored. In probe mode
/// every convolution and linear layer skips its computation (its input is cut to an empty batch) and returns its
/// recorded output, plus a perturbation on the probed channels; a batch norm returns its recorded output plus the
/// change of its input (an exact channel-wise pass-through that does not depend on γ). Each layer's input is
/// compared with the recorded one, channel by channel and batch element by batch element.
/// </summary>
internal sealed class ProbeSession : IDisposable
{
    private readonly List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> _layers;
    private readonly SlotMap _slots;
    private readonly List<Action> _hooks = [];
    private readonly Tensor?[] _baseIn;
    private readonly Tensor?[] _baseOut;
    private Dictionary<int, List<(int K, long Channel, double Magnitude)>> _perturb = [];
    private Tensor? _thresholds;
    private int _batch;

    internal ProbeSession(List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> layers, SlotMap slots)
    {
        _layers = layers;
        _slots = slots;
        _baseIn = new Tensor?[layers.Count];
        _baseOut = new Tensor?[layers.Count];
        Calls = new int[layers.Count];
        for (var i = 0; i < layers.Count; i++)
        {
            var index = i;
            var module = layers[i].Module;
            _hooks.Add(module.register_forward_pre_hook((_, input) => Pre(index, input) ?? input).remove);
            _hooks.Add(module.register_forward_hook((_, input, output) => Post(index, input, output) ?? output).remove);
        }
    }

    internal bool Recording { get; set; } = true;

    internal int[] Calls { get; }

    /// <summary>Slots that moved in the last probe batch: (batch element, slot).</summary>
    internal List<(int K, long Slot)> Moved { get; } = [];

    internal Tensor? BaseOutput(int layer) => _baseOut[layer];

    /// <summary>Sets the probes of the next batch: per producing layer, the (batch element, channel, magnitude) triples.</summary>
    internal void SetBatch(int batch, Dictionary<int, List<(int K, long Channel, double Magnitude)>> perturb, Tensor thresholds)
    {
        _batch = batch;
        _perturb = perturb;
        _thresholds = thresholds;
        Moved.Clear();
    }

    private Tensor? Pre(int index, Tensor input)
    {
        var (layer, _) = _layers[index];
        Calls[index]++;
        if (Recording)
        {
            _baseIn[index]?.Dispose();
            _baseIn[index] = input.detach().clone().DetachFromDisposeScope();
            return null;
        }

        var axis = LayerAccess.ChannelAxis(layer.Kind, input);
        var baseIn = _baseIn[index]!;
        if (input.shape.Length != baseIn.shape.Length || input.shape[axis] != baseIn.shape[axis])
        {
            throw new NotSupportedException($"Module '{layer.Name}' received an input of shape [{string.Join(", ", input.shape)}] while probing " +
                $"and [{string.Join(", ", baseIn.shape)}] before; its input shape depends on the batch, which channel probing cannot follow.");
        }

        using (var diff = input - baseIn)
        using (var per = LayerAccess.PerChannelMax(diff, axis))
        using (var hit = per.gt(_thresholds!))
        using (var idx = hit.nonzero().cpu())
        {
            var role = layer.IsNorm ? ChannelRole.Norm : ChannelRole.Input;
            var data = idx.numel() == 0 ? [] : idx.data<long>().ToArray();
            for (var r = 0; r < data.Length; r += 2)
            {
                Moved.Add(((int)data[r], _slots.Slot(index, role, data[r + 1])));
            }
        }

        return layer.IsNorm ? null : input.narrow(0, 0, 0);
    }

    private Tensor? Post(int index, Tensor input, Tensor output)
    {
        var (layer, _) = _layers[index];
        if (Recording)
        {
            _baseOut[index]?.Dispose();
            _baseOut[index] = output.detach().clone().DetachFromDisposeScope();
            return null;
        }

        var baseOut = _baseOut[index]!;
        var shape = (long[])baseOut.shape.Clone();
        shape[0] = _batch;
        if (layer.IsNorm)
        {
            using var delta = input - _baseIn[index]!;
            return baseOut.expand(shape) + delta;
        }

        var result = baseOut.expand(shape).clone();
        if (_perturb.TryGetValue(index, out var list))
        {
            var axis = LayerAccess.ChannelAxis(layer.Kind, result);
            foreach (var (k, channel, magnitude) in list)
            {
                using var row = result.narrow(0, k, 1);
                using var cell = row.narrow(axis, channel, 1);
                cell.add_(magnitude);
            }
        }

        return result;
    }

    public void Dispose()
    {
        foreach (var remove in _hooks)
        {
            remove();
        }

        foreach (var t in _baseIn.Concat(_baseOut))
        {
            t?.Dispose();
        }
    }
}
