namespace Sparsity;

/// <summary>How one mask differs from another in one layer.</summary>
/// <param name="Name">The parameter's state-dict key.</param>
/// <param name="TurnedOn">Positions pruned in the first mask and kept in the second.</param>
/// <param name="TurnedOff">Positions kept in the first mask and pruned in the second.</param>
public sealed record LayerFlips(string Name, long TurnedOn, long TurnedOff)
{
    /// <summary>Hamming distance between the two masks of this layer.</summary>
    public long Total => TurnedOn + TurnedOff;
}

/// <summary>Per-layer and overall flips between two <see cref="MaskSet"/>s (see <see cref="MaskSet.Flips"/>).</summary>
/// <param name="Layers">One entry per layer, in layer order.</param>
public sealed record MaskFlips(IReadOnlyList<LayerFlips> Layers)
{
    /// <summary>Positions turned on over all layers.</summary>
    public long TurnedOn => Layers.Sum(l => l.TurnedOn);

    /// <summary>Positions turned off over all layers.</summary>
    public long TurnedOff => Layers.Sum(l => l.TurnedOff);

    /// <summary>Hamming distance over all layers.</summary>
    public long Total => TurnedOn + TurnedOff;
}
