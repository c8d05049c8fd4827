namespace Sparsity.Analysis;

/// <summary>One row of an <see cref="OverlapReport"/>: a layer's (or the total's) effect sizes and p-value.</summary>
/// <param name="Counts">The overlap counts and derived effect sizes.</param>
/// <param name="Mean">Chance expectation μ of the overlap under the row's null.</param>
/// <param name="Variance">Variance σ² of the overlap under the row's null.</param>
/// <param name="Log10P">log₁₀ P(overlap ≥ X) under the row's null (an upper bound when <paramref name="IsUpperBound"/>).</param>
/// <param name="IsUpperBound">Whether <paramref name="Log10P"/> is an upper bound rather than exact.</param>
/// <param name="Log10PSidak">
/// <paramref name="Log10P"/> after Šidák correction for the number of layers compared (layers only; equals
/// <paramref name="Log10P"/> for the total).
/// </param>
public sealed record OverlapReportRow(
    LayerOverlap Counts, double Mean, double Variance, double Log10P, bool IsUpperBound, double Log10PSidak)
{
    /// <summary>z = (X − μ)/σ under the row's null.</summary>
    public double ZScore => Counts.Overlap == Mean ? 0.0 : (Counts.Overlap - Mean) / Math.Sqrt(Variance);
}
