using System.Globalization;

namespace Sparsity.Tests.Analysis;

/// <summary>One row of tests/fixtures/analysis/hypergeometric.csv (50-digit mpmath, make_fixtures.py).</summary>
public sealed record HypergeometricVector(
    long N, long K1, long K2, long X, double LnPmf, double LnSf, double LnCdf, double Log10Sf,
    double BinomialLog10Sf, double PoissonLog10Sf, double NormalLog10Sf, double KlLog10Bound, string Note)
{
    public override string ToString() => $"{Note} (n={N}, k1={K1}, k2={K2}, x={X})";
}

/// <summary>Reads the committed reference values.</summary>
public static class AnalysisFixtures
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "analysis");

    public static IReadOnlyList<HypergeometricVector> Vectors { get; } = File
        .ReadAllLines(Path.Combine(Folder, "hypergeometric.csv")).Skip(1)
        .Select(line => line.Split(','))
        .Select(f => new HypergeometricVector(
            long.Parse(f[0], CultureInfo.InvariantCulture), long.Parse(f[1], CultureInfo.InvariantCulture),
            long.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[3], CultureInfo.InvariantCulture),
            D(f[4]), D(f[5]), D(f[6]), D(f[7]), D(f[8]), D(f[9]), D(f[10]), D(f[11]), f[12]))
        .ToList();

    /// <summary>function → (x, value) from special.csv.</summary>
    public static ILookup<string, (string X, double Value)> Special { get; } = File
        .ReadAllLines(Path.Combine(Folder, "special.csv")).Skip(1)
        .Select(line => line.Split(','))
        .ToLookup(f => f[0], f => (f[1], D(f[2])));

    public static TheoryData<int> HypergeometricRows()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Vectors.Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    public static double D(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>Asserts |actual − expected| ≤ rel·|expected| + abs.</summary>
    public static void Close(double actual, double expected, double rel, double abs, string because)
    {
        Math.Abs(actual - expected).Should().BeLessThanOrEqualTo((rel * Math.Abs(expected)) + abs,
            $"{because}: actual {actual:R}, expected {expected:R}");
    }
}
