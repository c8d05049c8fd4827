using static TorchSharp.torch;

namespace Sparsity.Analysis;

/// <summary>Per-layer and total overlap of two <see cref="MaskSet"/>s (see <see cref="Compute"/>).</summary>
/// <param name="Layers">One entry per layer, in the first set's layer order.</param>
public sealed record MaskOverlap(IReadOnlyList<LayerOverlap> Layers)
{
    /// <summary>The name of the total row.</summary>
    public const string TotalName = "total";

    /// <summary>Counts summed over all layers (the pooled view).</summary>
    public LayerOverlap Total => new(
        TotalName,
        Layers.Sum(l => l.Population),
        Layers.Sum(l => l.KeptA),
        Layers.Sum(l => l.KeptB),
        Layers.Sum(l => l.Overlap));

    /// <summary>The layers as strata of a layer-stratified null.</summary>
    public IReadOnlyList<HypergeometricStratum> Strata =>
        Layers.Select(l => new HypergeometricStratum(l.Population, l.KeptA, l.KeptB)).ToList();

    /// <summary>
    /// Counts the overlap of <paramref name="a"/> and <paramref name="b"/> layer by layer: one
    /// <c>logical_and</c> + <c>count_nonzero</c> pass per layer on the device of <paramref name="a"/> (B's
    /// tensor is moved there first when it lives elsewhere); kept counts come from the sets themselves.
    /// </summary>
    /// <param name="a">The first mask set (e.g. a pruning criterion's mask).</param>
    /// <param name="b">The second mask set (e.g. the searched mask), over the same parameters and shapes.</param>
    /// <exception cref="ArgumentException">The sets describe different parameters or shapes.</exception>
    public static MaskOverlap Compute(MaskSet a, MaskSet b)
    {
        ArgumentNullException.ThrowIfNull(a);
        a.RequireSameLayout(b, nameof(b));
        var layers = new List<LayerOverlap>(a.LayerCount);
        foreach (var (name, mine) in a.Entries)
        {
            using var scope = NewDisposeScope();
            var theirs = b[name];
            if (!theirs.device.SameAs(mine.device))
            {
                theirs = theirs.to(mine.device);
            }

            long overlap = logical_and(mine, theirs).count_nonzero().item<long>();
            layers.Add(new LayerOverlap(name, mine.numel(), a.KeptIn(name), b.KeptIn(name), overlap));
        }

        return new MaskOverlap(layers);
    }
}
