namespace Sparsity.Analysis;

/// <summary>One stratum (layer) of a stratified overlap null: Hypergeometric(population, successes, draws).</summary>
/// <param name="Population">Weights in the layer, n_l.</param>
/// <param name="Successes">Weights kept by the first mask, k₁_l.</param>
/// <param name="Draws">Weights kept by the second mask, k₂_l.</param>
public readonly record struct HypergeometricStratum(long Population, long Successes, long Draws);
