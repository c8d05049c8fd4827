namespace Sparsity.Analysis;

/// <summary>
/// The pooled null: one hypergeometric over all weights, Hypergeometric(Σ n_l, Σ k₁_l, Σ k₂_l), exact tail.
/// Use it only when both masks come from one global budget and the agreement of their layer allocations is
/// meant to count as part of the effect; otherwise it inflates significance (docs/statistics.md#layer-stratified-null).
/// </summary>
public sealed class PooledOverlapNull : IOverlapNull
{
    /// <inheritdoc />
    public string Name => "pooled";

    /// <inheritdoc />
    public OverlapNullResult Evaluate(IReadOnlyList<LayerOverlap> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("At least one layer is needed.", nameof(layers));
        }

        var total = new MaskOverlap(layers).Total;
        var m = Hypergeometric.Moments(total.Population, total.KeptA, total.KeptB);
        double logP = Hypergeometric.LogSurvival(total.Population, total.KeptA, total.KeptB, total.Overlap);
        return new OverlapNullResult(Name, total.Overlap, m.Mean, m.Variance, logP, IsUpperBound: false);
    }
}
