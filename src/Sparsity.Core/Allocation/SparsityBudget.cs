namespace Sparsity;

/// <summary>The counting rules every allocation shares.</summary>
public static class SparsityBudget
{
    /// <summary>
    /// Number of weights kept out of <paramref name="total"/> at <paramref name="sparsity"/> under
    /// <paramref name="rounding"/>: by default PyTorch's <c>total − round(sparsity · total)</c> (half to even, of
    /// the float64 product, as <c>torch.nn.utils.prune</c> computes it); see <see cref="KeptCountRounding"/> for the Lottery Jackpots rule and the
    /// library's former <c>total − ⌊sparsity · total⌋</c>.
    /// </summary>
    /// <param name="total">Number of weights, ≥ 0.</param>
    /// <param name="sparsity">Fraction to remove, in [0, 1).</param>
    /// <param name="rounding">The rounding rule; PyTorch's by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative total, a sparsity outside [0, 1) or an unknown rule.</exception>
    public static long KeptCount(long total, double sparsity, KeptCountRounding rounding = KeptCountRounding.PyTorch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        Validate(sparsity, nameof(sparsity));
        return rounding switch
        {
            KeptCountRounding.PyTorch => total - (long)Math.Round(sparsity * total, MidpointRounding.ToEven),
            KeptCountRounding.LotteryJackpots => (long)Math.Floor(total * (1.0 - sparsity)),
            KeptCountRounding.FloorPruned => total - (long)decimal.Floor((decimal)sparsity * total),
            _ => throw new ArgumentOutOfRangeException(nameof(rounding), rounding,
                "Rounding must be KeptCountRounding.PyTorch, LotteryJackpots or FloorPruned."),
        };
    }

    /// <summary>Throws unless <paramref name="rounding"/> is a defined <see cref="KeptCountRounding"/>.</summary>
    /// <param name="rounding">The rule.</param>
    /// <param name="paramName">The caller's parameter name, for the message.</param>
    /// <exception cref="ArgumentOutOfRangeException">An undefined value.</exception>
    public static void Validate(KeptCountRounding rounding, string paramName)
    {
        if (!Enum.IsDefined(rounding))
        {
            throw new ArgumentOutOfRangeException(paramName, rounding,
                "Rounding must be KeptCountRounding.PyTorch, LotteryJackpots or FloorPruned.");
        }
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
