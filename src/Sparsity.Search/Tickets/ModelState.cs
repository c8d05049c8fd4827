using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>A deep copy of a model's state dict (parameters and buffers), keyed by state-dict name. Owns its tensors.</summary>
internal sealed class ModelState : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    private ModelState(Dictionary<string, Tensor> tensors) => _tensors = tensors;

    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    /// <summary>Clones the live state of <paramref name="model"/>.</summary>
    public static ModelState Capture(nn.Module model)
    {
        using var noGrad = no_grad();
        var copy = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, t) in model.state_dict())
        {
            copy[key] = t.detach().clone().DetachFromDisposeScope();
        }

        return new ModelState(copy);
    }

    /// <summary>Wraps tensors read from a file (takes ownership).</summary>
    public static ModelState From(Dictionary<string, Tensor> tensors) => new(tensors);

    /// <summary>Copies this state into the live tensors of <paramref name="model"/> (in place).</summary>
    public void RestoreTo(nn.Module model)
    {
        var live = model.state_dict();
        var missing = live.Keys.Where(k => !_tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"The saved state lacks {string.Join(", ", missing)}; it was taken from a different model.");
        }

        using var noGrad = no_grad();
        foreach (var (key, t) in live)
        {
            t.copy_(_tensors[key]);
        }
    }

    /// <summary>The state with every masked parameter multiplied by its mask (new tensors, caller owns the dictionary's tensors).</summary>
    public List<KeyValuePair<string, Tensor>> Masked(MaskSet mask)
    {
        var result = new List<KeyValuePair<string, Tensor>>(_tensors.Count);
        foreach (var (key, t) in _tensors)
        {
            if (mask.Contains(key))
            {
                using var m = mask[key].to(t.device);
                result.Add(KeyValuePair.Create(key, t.masked_fill(m.logical_not(), 0).DetachFromDisposeScope())); // a fill: NaN·0 is NaN
            }
            else
            {
                result.Add(KeyValuePair.Create(key, t.clone().DetachFromDisposeScope()));
            }
        }

        return result;
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values)
        {
            t.Dispose();
        }

        _tensors.Clear();
    }
}
