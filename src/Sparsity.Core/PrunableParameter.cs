using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// A named weight tensor that may be masked, for example <c>layer1.0.conv1.weight</c>. The name is the
/// PyTorch state-dict key, so masks and scores keyed by it line up with checkpoints written by PyTorch.
/// </summary>
/// <remarks>
/// The parameter object itself is looked up on every access to <see cref="Weight"/>: TorchSharp's
/// <c>Module.to()</c> replaces <see cref="Parameter"/> objects, so a reference taken earlier may be stale.
/// </remarks>
public sealed class PrunableParameter
{
    /// <summary>Creates a description of a prunable weight.</summary>
    /// <param name="name">Full state-dict key of the weight (<c>module.path.weight</c>).</param>
    /// <param name="layer">The module that owns the weight as its direct parameter.</param>
    /// <param name="localName">The parameter's name inside <paramref name="layer"/> (usually <c>weight</c>).</param>
    /// <param name="kind">The kind of layer.</param>
    public PrunableParameter(string name, nn.Module layer, string localName, PrunableLayerKind kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentException.ThrowIfNullOrWhiteSpace(localName);
        if (layer.get_parameter(localName) is null)
        {
            throw new ArgumentException($"Module '{name}' has no parameter '{localName}'.", nameof(localName));
        }

        Name = name;
        Layer = layer;
        LocalName = localName;
        Kind = kind;
        Shape = layer.get_parameter(localName)!.shape;
    }

    /// <summary>Full state-dict key, e.g. <c>layer1.0.conv1.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The module that owns the weight.</summary>
    public nn.Module Layer { get; }

    /// <summary>The weight's name inside <see cref="Layer"/>.</summary>
    public string LocalName { get; }

    /// <summary>The kind of layer (Linear, Conv1d, Conv2d, Conv3d).</summary>
    public PrunableLayerKind Kind { get; }

    /// <summary>Shape of the weight when it was selected; masks and scores must have this shape.</summary>
    public long[] Shape { get; }

    /// <summary>Number of elements of the weight.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The live weight parameter (looked up now, so it survives <c>Module.to()</c>).</summary>
    public Parameter Weight => Layer.get_parameter(LocalName)
        ?? throw new InvalidOperationException($"Parameter '{Name}' no longer exists on its module.");

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Kind} [{string.Join(", ", Shape)}]";
}
