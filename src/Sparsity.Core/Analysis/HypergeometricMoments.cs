namespace Sparsity.Analysis;

/// <summary>Mean and variance of a hypergeometric overlap (docs/statistics.md#null-distribution-of-the-overlap).</summary>
/// <param name="Mean">μ = k₁ k₂ / n.</param>
/// <param name="Variance">σ² = k₁ k₂ (n − k₁)(n − k₂) / (n² (n − 1)).</param>
/// <param name="Skewness">
/// (n − 2k₁)(n − 2k₂)√(n − 1) / [(n − 2)√(k₁ k₂ (n − k₁)(n − k₂))]; 0 when the law is degenerate or n ≤ 2.
/// </param>
public readonly record struct HypergeometricMoments(double Mean, double Variance, double Skewness)
{
    /// <summary>σ = √Variance.</summary>
    public double StandardDeviation => Math.Sqrt(Variance);

    /// <summary>The standard score z = (x − μ)/σ (±∞ when σ = 0 and x ≠ μ, 0 when x = μ).</summary>
    /// <param name="x">An observed overlap.</param>
    public double ZScore(double x) => x == Mean ? 0.0 : (x - Mean) / StandardDeviation;
}
