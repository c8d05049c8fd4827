using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// An ordered set of named tensors, one per prunable parameter, that owns (and disposes) its tensors.
/// Base of <see cref="ScoreSet"/> and <see cref="MaskSet"/>.
/// </summary>
public abstract class NamedTensorSet : IDisposable
{
    private readonly List<string> _names;
    private readonly Dictionary<string, Tensor> _tensors;
    private bool _disposed;

    /// <summary>Takes ownership of <paramref name="tensors"/>; names must be unique and non-empty.</summary>
    /// <param name="tensors">Name → tensor pairs, in layer order.</param>
    /// <param name="kind">What the tensors are ("score", "mask"), for messages.</param>
    private protected NamedTensorSet(IEnumerable<KeyValuePair<string, Tensor>> tensors, string kind)
    {
        // The caller passed "masks" or "scores" (the derived constructors' parameter), not "tensors".
        string paramName = kind + "s";
        ArgumentNullException.ThrowIfNull(tensors, paramName);
        _names = [];
        _tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException($"A {kind} tensor has an empty name.", paramName);
            }

            if (tensor is null)
            {
                throw new ArgumentException($"The {kind} tensor '{name}' is null.", paramName);
            }

            if (!_tensors.TryAdd(name, tensor))
            {
                throw new ArgumentException($"The {kind} tensor '{name}' appears twice.", paramName);
            }

            _names.Add(name);
        }

        if (_names.Count == 0)
        {
            throw new ArgumentException(
                $"A {kind} set needs at least one tensor (one per prunable layer; select the layers with ParameterSelector, which names the model when it has none).",
                paramName);
        }

        var device = _tensors[_names[0]].device;
        foreach (var name in _names)
        {
            if (!_tensors[name].device.SameAs(device))
            {
                throw new ArgumentException(
                    $"The {kind} tensor '{name}' lives on {_tensors[name].device} but '{_names[0]}' on {device}; " +
                    "move all tensors to one device first.", paramName);
            }
        }
    }

    /// <summary>Parameter names (state-dict keys), in layer order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Number of layers (tensors) in the set.</summary>
    public int LayerCount => _names.Count;

    /// <summary>The device all tensors live on.</summary>
    public Device Device => this[_names[0]].device;

    /// <summary>Total number of elements over all layers.</summary>
    public long TotalCount => _names.Sum(n => _tensors[n].numel());

    /// <summary>The tensor of one parameter. Owned by this set: do not dispose or modify it.</summary>
    /// <param name="name">The parameter's state-dict key.</param>
    /// <exception cref="KeyNotFoundException">No such parameter; the message lists the known names.</exception>
    public Tensor this[string name]
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _tensors.TryGetValue(name, out var t)
                ? t
                : throw new KeyNotFoundException(
                    $"Unknown parameter '{name}'. Known parameters: {string.Join(", ", _names)}.");
        }
    }

    /// <summary>Whether the set holds a tensor for <paramref name="name"/>.</summary>
    /// <param name="name">The parameter's state-dict key.</param>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>Name → tensor pairs in layer order (tensors owned by this set).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Entries => _names.Select(n => KeyValuePair.Create(n, this[n]));

    /// <summary>
    /// Checks that this set has exactly one tensor per prunable parameter with the parameter's shape.
    /// </summary>
    /// <param name="parameters">The prunable parameters of the model this set is used with.</param>
    /// <exception cref="ArgumentException">Names or shapes differ; the message lists every difference.</exception>
    public void ValidateAgainst(IReadOnlyList<PrunableParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var problems = new List<string>();
        var known = parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            if (!_tensors.TryGetValue(p.Name, out var t))
            {
                problems.Add($"missing '{p.Name}'");
            }
            else if (!t.shape.SequenceEqual(p.Weight.shape))
            {
                problems.Add($"'{p.Name}' has shape [{string.Join(", ", t.shape)}] but the parameter has [{string.Join(", ", p.Weight.shape)}]");
            }
        }

        problems.AddRange(_names.Where(n => !known.Contains(n)).Select(n => $"unknown parameter '{n}'"));
        if (problems.Count > 0)
        {
            throw new ArgumentException(
                $"{GetType().Name} does not match the model's prunable parameters: {string.Join("; ", problems)}.",
                nameof(parameters));
        }
    }

    /// <summary>Disposes every tensor of the set.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var t in _tensors.Values)
        {
            t.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Clones every tensor out of any dispose scope (the result owns them).</summary>
    private protected IEnumerable<KeyValuePair<string, Tensor>> CloneEntries(Device? device = null) =>
        Entries.Select(e => KeyValuePair.Create(e.Key, CloneOut(e.Value, device))).ToList();

    private static Tensor CloneOut(Tensor t, Device? device)
    {
        using var scope = NewDisposeScope();
        var copy = device is null || device.SameAs(t.device) ? t.detach().clone() : t.detach().to(device).clone();
        return copy.MoveToOuterDisposeScope();
    }
}
