using System.Globalization;
using System.Text;

namespace Sparsity.Analysis;

/// <summary>
/// Overlap of two mask sets, one row per layer plus the total: counts (k₁, k₂, n, X), effect sizes first
/// (overlap ratio vs chance, Jaccard, κ, Hamming), then chance expectation μ, z and log₁₀ p next to them
/// (docs/statistics.md#does-a-criterion-agree-with-the-search). Layer rows use each layer's exact hypergeometric tail (and a Šidák correction for the
/// number of layers); the total row uses the chosen <see cref="IOverlapNull"/>, which the report names.
/// </summary>
public sealed class OverlapReport
{
    private OverlapReport(IReadOnlyList<OverlapReportRow> layers, OverlapReportRow total, OverlapNullResult totalNull)
    {
        Layers = layers;
        Total = total;
        TotalNull = totalNull;
    }

    /// <summary>One row per layer, in layer order.</summary>
    public IReadOnlyList<OverlapReportRow> Layers { get; }

    /// <summary>The total row, evaluated under <see cref="TotalNull"/>.</summary>
    public OverlapReportRow Total { get; }

    /// <summary>What the null model used for the total says (its name, moments, p-value and whether that is a bound).</summary>
    public OverlapNullResult TotalNull { get; }

    /// <summary>Counts the overlap of two mask sets (see <see cref="MaskOverlap.Compute"/>) and builds the report.</summary>
    /// <param name="a">The first mask set (e.g. a criterion's mask).</param>
    /// <param name="b">The second mask set (e.g. the searched mask); overlap ratio is |A ∧ B| / |B|.</param>
    /// <param name="nullModel">Null for the total; <see cref="StratifiedOverlapNull"/> when null.</param>
    /// <exception cref="ArgumentException">The sets describe different parameters or shapes.</exception>
    public static OverlapReport Create(MaskSet a, MaskSet b, IOverlapNull? nullModel = null) =>
        Create(MaskOverlap.Compute(a, b), nullModel);

    /// <summary>Builds the report from overlap counts.</summary>
    /// <param name="overlap">Per-layer counts (at least one layer).</param>
    /// <param name="nullModel">Null for the total; <see cref="StratifiedOverlapNull"/> when null.</param>
    /// <exception cref="ArgumentException">No layers.</exception>
    public static OverlapReport Create(MaskOverlap overlap, IOverlapNull? nullModel = null)
    {
        ArgumentNullException.ThrowIfNull(overlap);
        if (overlap.Layers.Count == 0)
        {
            throw new ArgumentException("At least one layer is needed.", nameof(overlap));
        }

        nullModel ??= new StratifiedOverlapNull();
        long tests = overlap.Layers.Count;
        var rows = overlap.Layers.Select(l =>
        {
            var m = l.Chance;
            double logP = Hypergeometric.LogSurvival(l.Population, l.KeptA, l.KeptB, l.Overlap);
            double sidak = MultipleTesting.SidakAdjustLogP(logP, tests);
            return new OverlapReportRow(l, m.Mean, m.Variance, logP / SpecialFunctions.Ln10, false, sidak / SpecialFunctions.Ln10);
        }).ToList();
        var result = nullModel.Evaluate(overlap.Layers);
        var total = new OverlapReportRow(overlap.Total, result.Mean, result.Variance, result.Log10P, result.IsUpperBound, result.Log10P);
        return new OverlapReport(rows, total, result);
    }

    /// <summary>
    /// A Markdown table (invariant culture): layer, n, k₁, k₂, X, overlap ratio X/k₂, chance k₁/n, Jaccard, κ,
    /// Hamming, μ, z, log₁₀ p, log₁₀ p after Šidák; "≤" marks a bound; "–" an undefined ratio.
    /// </summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("Overlap of mask A with mask B; total under the ").Append(TotalNull.Null).Append(" null")
            .Append(TotalNull.IsUpperBound ? " (log10 p is a Chernoff upper bound)" : " (exact log10 p)")
            .Append("; layer rows: exact per-layer hypergeometric, Šidák over ")
            .Append(Layers.Count.ToString(CultureInfo.InvariantCulture)).Append(" layers.\n\n");
        sb.Append("| layer | n | k1 | k2 | overlap X | X/k2 | chance k1/n | Jaccard | κ | Hamming | μ | z | log10 p | log10 p Šidák |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var row in Layers.Append(Total))
        {
            var c = row.Counts;
            string bound = row.IsUpperBound ? "≤ " : string.Empty;
            sb.Append("| ").Append(c.Name)
                .Append(" | ").Append(Int(c.Population))
                .Append(" | ").Append(Int(c.KeptA))
                .Append(" | ").Append(Int(c.KeptB))
                .Append(" | ").Append(Int(c.Overlap))
                .Append(" | ").Append(Fixed(c.OverlapRatio, "F4"))
                .Append(" | ").Append(Fixed(c.ChanceRatio, "F4"))
                .Append(" | ").Append(Fixed(c.Jaccard, "F4"))
                .Append(" | ").Append(Fixed(c.Kappa, "F4"))
                .Append(" | ").Append(Int(c.Hamming))
                .Append(" | ").Append(Fixed(row.Mean, "F2"))
                .Append(" | ").Append(Fixed(row.ZScore, "F2"))
                .Append(" | ").Append(bound).Append(Fixed(row.Log10P, "F3"))
                .Append(" | ").Append(bound).Append(Fixed(row.Log10PSidak, "F3"))
                .Append(" |\n");
        }

        return sb.ToString();
    }

    /// <summary>
    /// CSV (RFC 4180, invariant culture, round-trip doubles, empty cell for an undefined ratio) with the columns
    /// layer, n, k1, k2, overlap, overlap_ratio, chance_ratio, jaccard, kappa, hamming, turned_on, turned_off,
    /// mu, sigma, z, log10_p, p_kind (exact | upper_bound), log10_p_sidak, null.
    /// </summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.Append("layer,n,k1,k2,overlap,overlap_ratio,chance_ratio,jaccard,kappa,hamming,turned_on,turned_off,mu,sigma,z,log10_p,p_kind,log10_p_sidak,null\n");
        foreach (var row in Layers)
        {
            AppendCsv(sb, row, "per-layer hypergeometric");
        }

        AppendCsv(sb, Total, TotalNull.Null);
        return sb.ToString();
    }

    private static void AppendCsv(StringBuilder sb, OverlapReportRow row, string nullName)
    {
        var c = row.Counts;
        string[] cells =
        [
            Quote(c.Name), Int(c.Population), Int(c.KeptA), Int(c.KeptB), Int(c.Overlap),
            Round(c.OverlapRatio), Round(c.ChanceRatio), Round(c.Jaccard), Round(c.Kappa),
            Int(c.Hamming), Int(c.TurnedOn), Int(c.TurnedOff),
            Round(row.Mean), Round(Math.Sqrt(row.Variance)), Round(row.ZScore),
            Round(row.Log10P), row.IsUpperBound ? "upper_bound" : "exact", Round(row.Log10PSidak), Quote(nullName),
        ];
        sb.Append(string.Join(',', cells)).Append('\n');
    }

    private static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Fixed(double v, string format) =>
        double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string Round(double v) => double.IsNaN(v) ? string.Empty : v.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
