using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// One boolean mask per prunable parameter (true = keep). Owns and disposes its tensors, which must be
/// treated as read-only: kept counts are computed once, when the set is built.
/// </summary>
public sealed partial class MaskSet : NamedTensorSet, IEquatable<MaskSet>
{
    private readonly Dictionary<string, long> _kept;

    /// <summary>Takes ownership of the mask tensors.</summary>
    /// <param name="masks">Name → bool tensor pairs, in layer order, all on one device.</param>
    /// <exception cref="ArgumentException">Empty, duplicate names, or a non-bool dtype.</exception>
    public MaskSet(IEnumerable<KeyValuePair<string, Tensor>> masks)
        : this(masks, keptCounts: null)
    {
    }

    /// <summary>Takes ownership of masks whose kept counts the caller has already counted (in layer order), saving a pass;
    /// null counts each mask.</summary>
    internal MaskSet(IEnumerable<KeyValuePair<string, Tensor>> masks, IReadOnlyList<long>? keptCounts)
        : base(masks, "mask")
    {
        _kept = new Dictionary<string, long>(StringComparer.Ordinal);
        int i = 0;
        foreach (var (name, t) in Entries)
        {
            if (t.dtype != ScalarType.Bool)
            {
                throw new ArgumentException($"Mask '{name}' has dtype {t.dtype}; masks must be bool (true = keep).", nameof(masks));
            }

            if (keptCounts is null)
            {
                using var kept = t.count_nonzero();
                _kept[name] = kept.item<long>();
            }
            else
            {
                _kept[name] = keptCounts[i++];
            }
        }
    }

    /// <summary>A mask that keeps every weight of <paramref name="parameters"/>, on their device.</summary>
    /// <param name="parameters">The prunable parameters.</param>
    /// <exception cref="ArgumentException"><paramref name="parameters"/> is empty (the model has no prunable layer).</exception>
    public static MaskSet Dense(IEnumerable<PrunableParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("No prunable parameter was given (does the model have a Conv or Linear layer the selector keeps?).", nameof(parameters));
        }

        return new MaskSet(list.Select(p =>
            KeyValuePair.Create(p.Name, ones(p.Shape, ScalarType.Bool, device: p.Weight.device).DetachFromDisposeScope())).ToList());
    }

    /// <summary>Number of kept weights over all layers.</summary>
    public long KeptCount => _kept.Values.Sum();

    /// <summary>Fraction of prunable weights kept.</summary>
    public double Density => (double)KeptCount / TotalCount;

    /// <summary>Fraction of prunable weights removed (1 − <see cref="Density"/>).</summary>
    public double Sparsity => 1.0 - Density;

    /// <summary>Kept and total counts of every layer, in layer order.</summary>
    public IReadOnlyList<LayerDensity> Layers => Names.Select(n => new LayerDensity(n, _kept[n], this[n].numel())).ToList();

    /// <summary>Kept count of one layer.</summary>
    /// <param name="name">The parameter's state-dict key.</param>
    public long KeptIn(string name) => Contains(name) ? _kept[name] : throw new KeyNotFoundException(
        $"Unknown parameter '{name}'. Known parameters: {string.Join(", ", Names)}.");

    /// <summary>
    /// Zeroes the pruned weights of <paramref name="model"/> in place (irreversible; see
    /// <see cref="MaskedModel"/> for a reversible masked forward). Every name and shape is checked before
    /// any weight changes.
    /// </summary>
    /// <param name="model">The model whose prunable parameters these masks describe.</param>
    /// <param name="parameters">Its prunable parameters; selected with the default selector when null.</param>
    /// <exception cref="ArgumentException">A mask has no parameter, or a different shape.</exception>
    public void ApplyTo(nn.Module model, IReadOnlyList<PrunableParameter>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var byName = ResolveParameters(model, parameters);
        using var noGrad = no_grad();
        foreach (var (name, mask) in Entries)
        {
            var weight = byName[name].Weight;
            using var m = mask.to(weight.device);
            MaskedModel.ZeroPruned(weight, m);
        }
    }

    /// <summary>
    /// Per-layer flips from this mask to <paramref name="other"/>: <c>TurnedOn</c> counts positions pruned
    /// here and kept there; <c>TurnedOff</c> the reverse.
    /// </summary>
    /// <param name="other">A mask set over the same parameters and shapes.</param>
    /// <exception cref="ArgumentException">Names or shapes differ.</exception>
    public MaskFlips Flips(MaskSet other)
    {
        RequireSameLayout(other, nameof(other));
        var layers = new List<LayerFlips>(LayerCount);
        foreach (var (name, mine) in Entries)
        {
            using var scope = NewDisposeScope();
            var theirs = other[name].to(mine.device);
            var on = logical_and(theirs, mine.logical_not()).count_nonzero().item<long>();
            var off = logical_and(mine, theirs.logical_not()).count_nonzero().item<long>();
            layers.Add(new LayerFlips(name, on, off));
        }

        return new MaskFlips(layers);
    }

    /// <summary>A deep copy, optionally on another device.</summary>
    /// <param name="device">Target device; the current one when null.</param>
    public MaskSet Clone(Device? device = null) => new(CloneEntries(device));

    /// <summary>Whether both sets have the same names, shapes and mask values (layer order ignored).</summary>
    /// <param name="other">The other mask set.</param>
    public bool Equals(MaskSet? other)
    {
        if (other is null)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (LayerCount != other.LayerCount || Names.Any(n => !other.Contains(n)))
        {
            return false;
        }

        foreach (var (name, mine) in Entries)
        {
            var theirs = other[name];
            if (!mine.shape.SequenceEqual(theirs.shape) || _kept[name] != other._kept[name])
            {
                return false;
            }

            using var t = theirs.to(mine.device);
            using var same = mine.eq(t).all();
            if (!same.item<bool>())
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is MaskSet other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var name in Names.Order(StringComparer.Ordinal))
        {
            hash.Add(name, StringComparer.Ordinal);
            hash.Add(_kept[name]);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"MaskSet({LayerCount} layers, kept {KeptCount:N0} of {TotalCount:N0}, sparsity {Sparsity:P2})";

    internal void RequireSameLayout(MaskSet other, string paramName)
    {
        ArgumentNullException.ThrowIfNull(other, paramName);
        var problems = new List<string>();
        problems.AddRange(Names.Where(n => !other.Contains(n)).Select(n => $"'{n}' missing in {paramName}"));
        problems.AddRange(other.Names.Where(n => !Contains(n)).Select(n => $"'{n}' only in {paramName}"));
        problems.AddRange(Names.Where(n => other.Contains(n) && !this[n].shape.SequenceEqual(other[n].shape))
            .Select(n => $"'{n}' has shape [{string.Join(", ", this[n].shape)}] here and [{string.Join(", ", other[n].shape)}] in {paramName}"));
        if (problems.Count > 0)
        {
            throw new ArgumentException($"The mask sets describe different parameters: {string.Join("; ", problems)}.", paramName);
        }
    }

    private Dictionary<string, PrunableParameter> ResolveParameters(nn.Module model, IReadOnlyList<PrunableParameter>? parameters)
    {
        parameters ??= ResolveByName(model);
        var byName = parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, mask) in Entries)
        {
            if (!byName.TryGetValue(name, out var p))
            {
                problems.Add($"unknown parameter '{name}'");
            }
            else if (!mask.shape.SequenceEqual(p.Weight.shape))
            {
                problems.Add($"mask '{name}' has shape [{string.Join(", ", mask.shape)}] but the weight has [{string.Join(", ", p.Weight.shape)}]");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"The masks do not fit the model: {string.Join("; ", problems)}.", nameof(model));
        }

        return byName;
    }

    // Masks may name any Conv/Linear weight (also ones a default selection keeps dense), so resolve by name.
    private List<PrunableParameter> ResolveByName(nn.Module model)
    {
        var all = new ParameterSelector(new ParameterSelectorOptions { IncludeConv3d = true }).Select(model);
        return all.Where(p => Contains(p.Name)).ToList();
    }
}
