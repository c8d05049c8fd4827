namespace Sparsity.Analysis;

/// <summary>
/// A null model for the total overlap of two masks: how large would it be if B's kept weights were chosen at
/// random? Implementations: <see cref="StratifiedOverlapNull"/> (default) and <see cref="PooledOverlapNull"/>.
/// </summary>
public interface IOverlapNull
{
    /// <summary>Short name shown in reports ("layer-stratified", "pooled").</summary>
    string Name { get; }

    /// <summary>Mean, variance and upper-tail log p-value of the total overlap of <paramref name="layers"/>.</summary>
    /// <param name="layers">Per-layer overlap counts (at least one).</param>
    OverlapNullResult Evaluate(IReadOnlyList<LayerOverlap> layers);
}

/// <summary>What a null model says about an observed total overlap.</summary>
/// <param name="Null">The null model's name.</param>
/// <param name="Observed">The observed total overlap S.</param>
/// <param name="Mean">E S under the null.</param>
/// <param name="Variance">Var S under the null.</param>
/// <param name="LogP">ln P(S ≥ observed) under the null, or an upper bound on it.</param>
/// <param name="IsUpperBound">Whether <paramref name="LogP"/> is an upper bound (conservative) rather than exact.</param>
public sealed record OverlapNullResult(string Null, long Observed, double Mean, double Variance, double LogP, bool IsUpperBound)
{
    /// <summary>z = (S − E S)/√Var S.</summary>
    public double ZScore => Observed == Mean ? 0.0 : (Observed - Mean) / Math.Sqrt(Variance);

    /// <summary>log₁₀ of the p-value (or of its upper bound).</summary>
    public double Log10P => LogP / SpecialFunctions.Ln10;
}
