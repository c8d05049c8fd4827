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
    private readonly int[] _order;
    private readonly Dictionary<int, Tensor> _delta = [];
    private Tensor? _thresholds;
    private int _batch;
    private int _firstOrder;
    private int _calls;

    internal ProbeSession(List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> layers, SlotMap slots)
    {
        _layers = layers;
        _slots = slots;
        _baseIn = new Tensor?[layers.Count];
        _baseOut = new Tensor?[layers.Count];
        Calls = new int[layers.Count];
        _order = new int[layers.Count];
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

    /// <summary>
    /// Sets the probes of the next batch: per producing layer, the (batch element, channel, magnitude) triples.
    /// Layers called before the first perturbed one cannot move, so they replay a batch-1 output (broadcast by the
    /// model's arithmetic), unless <paramref name="fullBatch"/> asks for full batches everywhere.
    /// </summary>
    internal void SetBatch(int batch, Dictionary<int, List<(int K, long Channel, double Magnitude)>> perturb, Tensor thresholds, bool inputPerturbed, bool fullBatch)
    {
        _batch = batch;
        _thresholds = thresholds;
        Moved.Clear();
        foreach (var d in _delta.Values)
        {
            d.Dispose();
        }

        _delta.Clear();
        _firstOrder = inputPerturbed || fullBatch ? -1 : perturb.Keys.Select(i => _order[i]).DefaultIfEmpty(int.MaxValue).Min();
        foreach (var (layer, list) in perturb)
        {
            var device = _baseOut[layer]!.device;
            var delta = zeros([batch, _layers[layer].Layer.OutputChannels], device: device);
            using var k = tensor(list.Select(p => (long)p.K).ToArray(), device: device);
            using var c = tensor(list.Select(p => p.Channel).ToArray(), device: device);
            using var m = tensor(list.Select(p => (float)p.Magnitude).ToArray(), device: device);
            delta.index_put_(m, k, c);
            _delta[layer] = delta.DetachFromDisposeScope();
        }
    }

    private Tensor? Pre(int index, Tensor input)
    {
        var (layer, _) = _layers[index];
        Calls[index]++;
        if (Recording)
        {
            _order[index] = _calls++;
            _baseIn[index]?.Dispose();
            _baseIn[index] = input.detach().clone().DetachFromDisposeScope();
            return null;
        }

        if (_order[index] < _firstOrder)
        {
            return layer.IsNorm ? null : input.narrow(0, 0, 0);
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
        if (layer.IsNorm)
        {
            using var change = input - _baseIn[index]!;
            return baseOut + change;
        }

        if (_order[index] < _firstOrder)
        {
            return baseOut.clone();
        }

        var shape = (long[])baseOut.shape.Clone();
        shape[0] = _batch;
        if (!_delta.TryGetValue(index, out var delta))
        {
            return baseOut.expand(shape).clone();
        }

        var axis = LayerAccess.ChannelAxis(layer.Kind, baseOut);
        var view = Enumerable.Repeat(1L, shape.Length).ToArray();
        view[0] = _batch;
        view[axis] = shape[axis];
        using var d = delta.view(view);
        return baseOut + d;
    }

    public void Dispose()
    {
        foreach (var remove in _hooks)
        {
            remove();
        }

        foreach (var t in _baseIn.Concat(_baseOut).Concat(_delta.Values))
        {
            t?.Dispose();
        }
    }
}
