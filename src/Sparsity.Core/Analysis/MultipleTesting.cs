namespace Sparsity.Analysis;

/// <summary>
/// Šidák correction for W independent tests (docs/statistics.md#multiple-testing): family-wise error
/// FWER = 1 − (1 − α)^W, so a per-test level α = 1 − (1 − FWER)^{1/W} (≈ FWER/W) keeps the family at FWER.
/// Every form is computed with log1p/expm1, so levels like 1e-12 and W up to 2⁶³ stay exact.
/// </summary>
public static class MultipleTesting
{
    /// <summary>Per-test level α = 1 − (1 − familyWiseLevel)^{1/tests}.</summary>
    /// <param name="familyWiseLevel">Wanted family-wise error rate, in (0, 1).</param>
    /// <param name="tests">Number of tests W ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static double SidakPerTestLevel(double familyWiseLevel, long tests)
    {
        ValidateLevel(familyWiseLevel, nameof(familyWiseLevel));
        ArgumentOutOfRangeException.ThrowIfLessThan(tests, 1L);
        return -SpecialFunctions.Expm1(SpecialFunctions.Log1p(-familyWiseLevel) / tests);
    }

    /// <summary>Family-wise error 1 − (1 − perTestLevel)^tests of W independent tests at one level.</summary>
    /// <param name="perTestLevel">Level of each test, in (0, 1).</param>
    /// <param name="tests">Number of tests W ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static double SidakFamilyWiseLevel(double perTestLevel, long tests)
    {
        ValidateLevel(perTestLevel, nameof(perTestLevel));
        ArgumentOutOfRangeException.ThrowIfLessThan(tests, 1L);
        return -SpecialFunctions.Expm1(tests * SpecialFunctions.Log1p(-perTestLevel));
    }

    /// <summary>
    /// Šidák-adjusted log p-value ln[1 − (1 − p)^W] for the smallest of W p-values, from ln p (p may underflow:
    /// below e^{−40}/W it returns ln W + ln p, whose relative error W p/2 is below 1e-17).
    /// </summary>
    /// <param name="logP">ln p ≤ 0.</param>
    /// <param name="tests">Number of tests W ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static double SidakAdjustLogP(double logP, long tests)
    {
        if (!(logP <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(logP), logP, "A log p-value must be ≤ 0.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(tests, 1L);
        double logWp = logP + Math.Log(tests);
        if (logWp < -40)
        {
            return logWp;
        }

        return SpecialFunctions.Log1mExp(tests * SpecialFunctions.Log1mExp(logP));
    }

    private static void ValidateLevel(double level, string paramName)
    {
        if (!(level > 0 && level < 1))
        {
            throw new ArgumentOutOfRangeException(paramName, level, "A level must lie in (0, 1).");
        }
    }
}
