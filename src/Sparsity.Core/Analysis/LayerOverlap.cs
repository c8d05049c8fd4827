namespace Sparsity.Analysis;

/// <summary>
/// Overlap counts of two masks A and B over one layer (or over all layers, for the total) and the effect sizes
/// derived from them (docs/statistics.md#null-distribution-of-the-overlap; docs/algorithms.md#mask-overlap). Ratios that divide by zero are <see cref="double.NaN"/>.
/// </summary>
/// <param name="Name">The parameter's state-dict key, or <see cref="MaskOverlap.TotalName"/>.</param>
/// <param name="Population">Weights n.</param>
/// <param name="KeptA">Weights kept by A, k₁.</param>
/// <param name="KeptB">Weights kept by B, k₂.</param>
/// <param name="Overlap">Weights kept by both, X = |A ∧ B|.</param>
public sealed record LayerOverlap(string Name, long Population, long KeptA, long KeptB, long Overlap)
{
    /// <summary>Overlap ratio |A ∧ B| / |B|: the fraction of B's kept weights that A keeps too (the figure reproductions report).</summary>
    public double OverlapRatio => KeptB == 0 ? double.NaN : (double)Overlap / KeptB;

    /// <summary>The overlap ratio expected by chance, |A| / n.</summary>
    public double ChanceRatio => Population == 0 ? double.NaN : (double)KeptA / Population;

    /// <summary>Jaccard index |A ∧ B| / |A ∨ B|.</summary>
    public double Jaccard => KeptA + KeptB - Overlap == 0 ? double.NaN : (double)Overlap / (KeptA + KeptB - Overlap);

    /// <summary>Hamming distance: positions where the masks differ, k₁ + k₂ − 2X.</summary>
    public long Hamming => KeptA + KeptB - (2 * Overlap);

    /// <summary>Positions pruned by A and kept by B (flips in, going from A to B).</summary>
    public long TurnedOn => KeptB - Overlap;

    /// <summary>Positions kept by A and pruned by B (flips out, going from A to B).</summary>
    public long TurnedOff => KeptA - Overlap;

    /// <summary>Moments of the overlap under the hypergeometric null of this layer alone.</summary>
    public HypergeometricMoments Chance => Hypergeometric.Moments(Population, KeptA, KeptB);

    /// <summary>
    /// Excess overlap κ = (X − μ)/(min(k₁, k₂) − μ): 0 at chance, 1 when one kept set contains the other,
    /// negative below chance; NaN when min(k₁, k₂) = μ (an empty or full mask).
    /// </summary>
    public double Kappa
    {
        get
        {
            double mu = Chance.Mean;
            double room = Math.Min(KeptA, KeptB) - mu;
            return room == 0 ? double.NaN : (Overlap - mu) / room;
        }
    }

    /// <summary>Standard score z = (X − μ)/σ under this layer's hypergeometric null.</summary>
    public double ZScore => Chance.ZScore(Overlap);
}
