namespace Sparsity;

/// <summary>The counting rules every allocation shares.</summary>
public static class SparsityBudget
{
    /// <summary>
    /// Number of weights kept out of <paramref name="total"/> at <paramref name="sparsity"/>:
    /// <c>total − ⌊sparsity · total⌋</c>, computed in decimal arithmetic so that, for example, 0.29 × 100
    /// prunes exactly 29 (binary floating point would give 28.999…). Never prunes more than asked.
    /// </summary>
    /// <param name="total">Number of weights, ≥ 0.</param>
    /// <param name="sparsity">Fraction to remove, in [0, 1).</param>
    public static long KeptCount(long total, double sparsity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        Validate(sparsity, nameof(sparsity));
        return total - (long)decimal.Floor((decimal)sparsity * total);
    }

    /// <summary>Throws unless <paramref name="sparsity"/> is a number in [0, 1).</summary>
    /// <param name="sparsity">The fraction of weights to remove.</param>
    /// <param name="paramName">The caller's parameter name, for the message.</param>
    /// <exception cref="ArgumentOutOfRangeException">NaN, negative, or ≥ 1.</exception>
    public static void Validate(double sparsity, string paramName)
    {
        if (double.IsNaN(sparsity) || sparsity < 0.0 || sparsity >= 1.0)
        {
            throw new ArgumentOutOfRangeException(paramName, sparsity,
                "Sparsity is the fraction of prunable weights removed and must lie in [0, 1): " +
                "0.9 keeps 10 % of the weights; 1.0 would remove every weight.");
        }
    }
}
