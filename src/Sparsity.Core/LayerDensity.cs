namespace Sparsity;

/// <summary>Kept and total weight counts of one masked parameter.</summary>
/// <param name="Name">The parameter's state-dict key.</param>
/// <param name="Kept">Number of weights the mask keeps.</param>
/// <param name="Total">Number of weights of the parameter.</param>
public sealed record LayerDensity(string Name, long Kept, long Total)
{
    /// <summary>Fraction kept, Kept / Total.</summary>
    public double Density => Total == 0 ? 0.0 : (double)Kept / Total;

    /// <summary>Fraction removed, 1 − Density.</summary>
    public double Sparsity => 1.0 - Density;
}
