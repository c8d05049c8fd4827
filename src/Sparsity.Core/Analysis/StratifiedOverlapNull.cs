namespace Sparsity.Analysis;

/// <summary>
/// The layer-stratified null (default): S = Σ_l X_l with independent X_l ~ Hypergeometric(n_l, k₁_l, k₂_l), i.e.
/// per-layer budgets are taken as given and only the positions inside each layer are random
/// (docs/statistics.md#layer-stratified-null). E S = Σ μ_l, Var S = Σ σ_l²; the p-value is the Chernoff upper bound of
/// <see cref="Hypergeometric.StratifiedLogSurvivalUpperBound"/> (exact for a single layer).
/// </summary>
public sealed class StratifiedOverlapNull : IOverlapNull
{
    /// <inheritdoc />
    public string Name => "layer-stratified";

    /// <inheritdoc />
    public OverlapNullResult Evaluate(IReadOnlyList<LayerOverlap> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("At least one layer is needed.", nameof(layers));
        }

        double mean = 0;
        double variance = 0;
        long observed = 0;
        foreach (var l in layers)
        {
            var m = l.Chance;
            mean += m.Mean;
            variance += m.Variance;
            observed += l.Overlap;
        }

        if (layers.Count == 1)
        {
            var l = layers[0];
            double exact = Hypergeometric.LogSurvival(l.Population, l.KeptA, l.KeptB, l.Overlap);
            return new OverlapNullResult(Name, observed, mean, variance, exact, IsUpperBound: false);
        }

        var strata = layers.Select(l => new HypergeometricStratum(l.Population, l.KeptA, l.KeptB)).ToList();
        double bound = Hypergeometric.StratifiedLogSurvivalUpperBound(strata, observed);
        return new OverlapNullResult(Name, observed, mean, variance, bound, IsUpperBound: true);
    }
}
