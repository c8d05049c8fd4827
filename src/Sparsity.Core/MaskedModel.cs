using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// A reversible masked forward: binds masks to a model so that every forward pass uses
/// <c>W_eff = W ⊙ M</c>, while the dense weights are held beside the model and restored on
/// <see cref="Dispose"/>. This is the one masking mechanism of the library: the mask searcher changes
/// masks without losing weights, and masked training (IMP) keeps pruned weights at exactly 0.0.
/// </summary>
/// <remarks>
/// <para>How it works: on attach the dense weight D of every masked parameter is cloned and the live
/// parameter is overwritten in place (no autograd) with <c>D ⊙ M</c>, computed as a fill (pruned positions set
/// to exactly 0.0 whatever D holds there, NaN and ±∞ included; kept positions untouched). The live parameter therefore
/// <em>is</em> W_eff, its <c>.grad</c> after a backward pass is ∂L/∂W_eff, and the straight-through score
/// gradient of Lottery Jackpots / edge-popup is <c>∂L/∂W_eff ⊙ D</c> (docs/algorithms.md#masked-forward-and-the-straight-through-gradient). Any model
/// works as is: no layer is replaced, and parameter names stay the PyTorch state-dict keys.</para>
/// <para>When a mask changes, D first takes the live values of the positions that were kept (so training
/// updates survive), then the live parameter is rewritten as D ⊙ M_new. D therefore holds, for every
/// position, the last value it had while it was kept.</para>
/// <para>For masked training call <see cref="MaskGradients"/> before and <see cref="Reapply"/> after each
/// optimiser step: momentum and weight decay then cannot move a pruned weight away from 0.0.</para>
/// <para>Parameter objects are looked up by name on every call, so <c>Module.to()</c> between calls is
/// safe as long as the device of weights and masks stays the same (masks follow the weights' device on
/// the next <see cref="SetMask"/>).</para>
/// </remarks>
public sealed partial class MaskedModel : IDisposable
{
    private readonly Dictionary<string, PrunableParameter> _parameters;
    private readonly List<string> _names;
    private readonly Dictionary<string, Tensor> _dense = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _masks = new(StringComparer.Ordinal);
    private bool _disposed;

    private MaskedModel(nn.Module model, IReadOnlyList<PrunableParameter> parameters)
    {
        Model = model;
        _parameters = parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        _names = parameters.Select(p => p.Name).ToList();
    }

    /// <summary>The model whose weights are masked.</summary>
    public nn.Module Model { get; }

    /// <summary>Names of the masked parameters, in layer order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>
    /// Binds <paramref name="masks"/> to <paramref name="model"/>. The masks are copied (the caller keeps
    /// ownership of <paramref name="masks"/>). Every name and shape is checked before any weight changes.
    /// </summary>
    /// <param name="model">The model; its masked weights are overwritten with W ⊙ M until disposal.</param>
    /// <param name="masks">One mask per parameter to mask.</param>
    /// <param name="parameters">The model's prunable parameters; the default selection when null.</param>
    /// <exception cref="ArgumentException">A mask names an unknown parameter or has the wrong shape.</exception>
    public static MaskedModel Attach(nn.Module model, MaskSet masks, IReadOnlyList<PrunableParameter>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(masks);
        parameters ??= new ParameterSelector(new ParameterSelectorOptions { IncludeConv3d = true }).Select(model);
        var byName = parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var unknown = masks.Names.Where(n => !byName.ContainsKey(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"Masks name parameters the model does not have: {string.Join(", ", unknown)}. Known: {string.Join(", ", byName.Keys)}.",
                nameof(masks));
        }

        var selected = masks.Names.Select(n => byName[n]).ToList();
        foreach (var p in selected)
        {
            RequireShape(p, masks[p.Name], nameof(masks));
        }

        var masked = new MaskedModel(model, selected);
        using var noGrad = no_grad();
        foreach (var p in selected)
        {
            var weight = p.Weight;
            masked._dense[p.Name] = weight.detach().clone().DetachFromDisposeScope();
            masked._masks[p.Name] = masks[p.Name].to(weight.device).clone().DetachFromDisposeScope();
            ZeroPruned(weight, masked._masks[p.Name]);
        }

        return masked;
    }

    /// <summary>The current mask of one parameter (owned here; do not modify or dispose).</summary>
    /// <param name="name">The parameter's state-dict key.</param>
    /// <exception cref="KeyNotFoundException">No masked parameter has that name (the message lists the masked ones).</exception>
    public Tensor Mask(string name) => Lookup(_masks, name);

    /// <summary>
    /// The dense weight of one parameter as last seen (owned here; do not modify or dispose). Positions
    /// currently kept may have moved on in the live parameter since the last mask change.
    /// </summary>
    /// <param name="name">The parameter's state-dict key.</param>
    /// <exception cref="KeyNotFoundException">No masked parameter has that name (the message lists the masked ones).</exception>
    public Tensor DenseWeight(string name) => Lookup(_dense, name);

    /// <summary>The prunable parameter behind <paramref name="name"/>.</summary>
    /// <param name="name">The parameter's state-dict key.</param>
    /// <exception cref="KeyNotFoundException">No masked parameter has that name (the message lists the masked ones).</exception>
    public PrunableParameter Parameter(string name) =>
        _parameters.TryGetValue(name, out var p) ? p : throw UnknownName(name);

    /// <summary>Replaces the mask of one parameter; the live weight becomes D ⊙ M_new.</summary>
    /// <param name="name">The parameter's state-dict key.</param>
    /// <param name="mask">Bool tensor of the weight's shape; copied.</param>
    /// <exception cref="KeyNotFoundException">No masked parameter has that name (the message lists the masked ones).</exception>
    public void SetMask(string name, Tensor mask)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var p = Parameter(name);
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.dtype != ScalarType.Bool)
        {
            throw new ArgumentException($"Mask for '{name}' has dtype {mask.dtype}; masks must be bool.", nameof(mask));
        }

        RequireShape(p, mask, nameof(mask));
        using var noGrad = no_grad();
        var weight = p.Weight;
        var oldMask = _masks[name];
        var dense = _dense[name];
        if (!dense.device.SameAs(weight.device))
        {
            _dense[name] = dense.to(weight.device).DetachFromDisposeScope();
            dense.Dispose();
            dense = _dense[name];
            oldMask = _masks[name] = MoveOwned(oldMask, weight.device);
        }

        // D keeps the live value of every position that was kept.
        using (var merged = where(oldMask, weight, dense))
        {
            dense.copy_(merged);
        }

        var newMask = mask.to(weight.device).clone().DetachFromDisposeScope();
        using (var zero = 0.ToScalar())
        using (var pruned = newMask.logical_not())
        using (var effective = dense.masked_fill(pruned, zero))
        {
            weight.copy_(effective);
        }

        _masks[name] = newMask;
        oldMask.Dispose();
    }

    /// <summary>
    /// Sets the mask of one parameter to <paramref name="keep"/> at the given flat positions, with the same
    /// semantics as <see cref="SetMask"/> for the resulting mask and live weight but at a cost proportional to
    /// the number of positions (the mask searcher changes a few hundred of hundreds of thousands per step).
    /// Only the given positions merge their live value into the held dense weight; elsewhere the held value
    /// of a kept position may be older than the live one, which <see cref="Dispose"/> and later mask changes
    /// already account for.
    /// </summary>
    /// <param name="name">The parameter's state-dict key.</param>
    /// <param name="positions">1-D int64 flat (row-major) indices into the weight; may be empty.</param>
    /// <param name="keep">True to keep (the live weight takes the held dense value), false to prune (0.0).</param>
    /// <exception cref="ArgumentException">Not a 1-D int64 tensor, or an index outside the weight.</exception>
    /// <exception cref="KeyNotFoundException">No masked parameter has that name (the message lists the masked ones).</exception>
    public void SetMaskAt(string name, Tensor positions, bool keep)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var p = Parameter(name);
        ArgumentNullException.ThrowIfNull(positions);
        if (positions.dtype != ScalarType.Int64 || positions.dim() != 1)
        {
            throw new ArgumentException($"Positions for '{name}' must be a 1-D int64 tensor of flat indices.", nameof(positions));
        }

        if (positions.numel() == 0)
        {
            return;
        }

        var weight = p.Weight;
        if (!_dense[name].device.SameAs(weight.device) || !weight.is_contiguous())
        {
            // Rare: move the held tensors first, or take the general path for a strided weight.
            using var full = _masks[name].to(weight.device).clone();
            using var at = positions.to(weight.device);
            full.view(-1).index_fill_(0, at, keep);
            SetMask(name, full);
            return;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Explicit Scalars, disposed on return: implicit conversions would leave finalizable native objects per call.
        using var zero = 0.ToScalar();
        using var end = weight.numel().ToScalar();
        using var value = keep.ToScalar();
        if (HostReads.Item<bool>(positions.lt(zero).logical_or_(positions.ge(end)).any()))
        {
            throw new ArgumentException($"Positions for '{name}' must lie in [0, {weight.numel()}).", nameof(positions));
        }

        var index = positions.to(weight.device);
        var flatWeight = weight.view(-1);
        var flatDense = _dense[name].view(-1);
        var flatMask = _masks[name].view(-1);

        // D keeps the live value of every position that was kept (as in SetMask).
        var merged = where(flatMask.index_select(0, index), flatWeight.index_select(0, index), flatDense.index_select(0, index));
        flatDense.index_copy_(0, index, merged);
        if (keep)
        {
            flatWeight.index_copy_(0, index, merged);
        }
        else
        {
            flatWeight.index_fill_(0, index, zero);
        }

        flatMask.index_fill_(0, index, value);
    }

    /// <summary>Replaces every mask present in <paramref name="masks"/> (see <see cref="SetMask"/>).</summary>
    /// <param name="masks">Masks for some or all of the bound parameters.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="masks"/> names a parameter that is not masked here (the message names it and lists the
    /// masked ones) or has a wrong shape; no mask changes.
    /// </exception>
    public void SetMasks(MaskSet masks)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(masks);
        var unknown = masks.Names.Where(n => !_parameters.ContainsKey(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"The masks name parameters that are not masked here: {string.Join(", ", unknown.Select(n => $"'{n}'"))}. Masked parameters: {string.Join(", ", _names)}.",
                nameof(masks));
        }

        foreach (var n in masks.Names)
        {
            RequireShape(Parameter(n), masks[n], nameof(masks));
        }

        foreach (var (n, m) in masks.Entries)
        {
            SetMask(n, m);
        }
    }

    /// <summary>A copy of the current masks (owned by the caller).</summary>
    public MaskSet Snapshot()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new MaskSet(_names.Select(n => KeyValuePair.Create(n, _masks[n].clone().DetachFromDisposeScope())).ToList());
    }

    /// <summary>Multiplies each masked parameter's gradient by its mask (call before the optimiser step).</summary>
    public void MaskGradients()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        foreach (var n in _names)
        {
            if (_parameters[n].Weight.grad is { } grad)
            {
                ZeroPruned(grad, _masks[n]);
            }
        }
    }

    /// <summary>Zeroes the pruned positions of every masked weight again (call after the optimiser step).</summary>
    public void Reapply()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        foreach (var n in _names)
        {
            ZeroPruned(_parameters[n].Weight, _masks[n]);
        }
    }

    /// <summary>
    /// Unbinds the masks: every masked weight gets back its dense value (the live value where the mask
    /// keeps, the held dense value elsewhere).
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        using (no_grad())
        {
            foreach (var n in _names)
            {
                var weight = _parameters[n].Weight;
                using var dense = _dense[n].to(weight.device);
                using var mask = _masks[n].to(weight.device);
                using var merged = where(mask, weight, dense);
                weight.copy_(merged);
            }
        }

        foreach (var t in _dense.Values.Concat(_masks.Values))
        {
            t.Dispose();
        }
    }

    private Tensor Lookup(Dictionary<string, Tensor> store, string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return store.TryGetValue(name, out var t) ? t : throw UnknownName(name);
    }

    private KeyNotFoundException UnknownName(string name) =>
        new($"Parameter '{name}' is not masked here. Masked parameters: {string.Join(", ", _names)}.");

    /// <summary>
    /// Sets the pruned positions of <paramref name="target"/> to exactly 0.0 in place. A fill, not a product:
    /// NaN·0 and ∞·0 are NaN, so multiplying by the mask would let a non-finite pruned value through.
    /// </summary>
    internal static void ZeroPruned(Tensor target, Tensor mask)
    {
        using var pruned = mask.logical_not();
        using var zero = 0.ToScalar(); // disposed here: called per layer and step in masked training
        target.masked_fill_(pruned, zero);
    }

    private static Tensor MoveOwned(Tensor t, Device device)
    {
        var moved = t.to(device).DetachFromDisposeScope();
        t.Dispose();
        return moved;
    }

    private static void RequireShape(PrunableParameter p, Tensor mask, string paramName)
    {
        var shape = p.Weight.shape;
        if (!mask.shape.SequenceEqual(shape))
        {
            throw new ArgumentException(
                $"Mask for '{p.Name}' has shape [{string.Join(", ", mask.shape)}] but the weight has [{string.Join(", ", shape)}].",
                paramName);
        }
    }
}
