using System.Globalization;
using Sparsity.Analysis;

namespace Sparsity.Tests.Analysis;

public sealed class OverlapReportTests
{
    // Hand case (docs/statistics.md#layer-stratified-null): layers Hyp(10, 5, 5) with X = 4 and Hyp(10, 1, 1) with X = 1.
    private static readonly MaskOverlap HandCase = new([new LayerOverlap("a", 10, 5, 5, 4), new LayerOverlap("b", 10, 1, 1, 1)]);

    [Fact]
    public void StratifiedAndPooledNullsOnAHandComputedCase()
    {
        var stratified = new StratifiedOverlapNull().Evaluate(HandCase.Layers);
        stratified.Mean.Should().BeApproximately(2.5 + 0.1, 1e-15);
        stratified.Variance.Should().BeApproximately((625.0 / 900) + 0.09, 1e-15);
        stratified.IsUpperBound.Should().BeTrue();
        stratified.LogP.Should().BeGreaterThanOrEqualTo(Math.Log(3.5 / 252), "bound on the exact stratified tail (0.9 + 2.6)/252");

        var pooled = new PooledOverlapNull().Evaluate(HandCase.Layers);
        pooled.Mean.Should().BeApproximately(1.8, 1e-15);
        pooled.Variance.Should().BeApproximately(7056.0 / 7600, 1e-15);
        pooled.IsUpperBound.Should().BeFalse();
        pooled.LogP.Should().BeApproximately(Math.Log(85.0 / 38760), 1e-12, "Hyp(20, 6, 6): (6·14 + 1)/C(20, 6)");
        pooled.LogP.Should().BeLessThan(Math.Log(3.5 / 252), "the pooled null inflates significance here");
        pooled.Null.Should().Be("pooled");
        stratified.Null.Should().Be("layer-stratified");
    }

    [Fact]
    public void SingleLayerStratifiedNullIsExact()
    {
        var one = new StratifiedOverlapNull().Evaluate([new LayerOverlap("a", 10, 5, 5, 4)]);
        one.IsUpperBound.Should().BeFalse();
        one.LogP.Should().BeApproximately(Math.Log(26.0 / 252), 1e-13);
    }

    [Fact]
    public void MarkdownHasOneRowPerLayerPlusTotalAndNamesTheNull()
    {
        var report = OverlapReport.Create(HandCase);
        var lines = report.ToMarkdown().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Contain("layer-stratified").And.Contain("upper bound");
        lines[1].Should().StartWith("| layer | n | k1 | k2 | overlap X | X/k2 | chance k1/n | Jaccard | κ |");
        lines.Should().HaveCount(6, "title, header, separator, two layers, total");
        // a: X/k2 = 0.8, Jaccard 4/6, κ = (4 − 2.5)/2.5 = 0.6, Hamming 2, μ 2.5, z = 1.5/√(625/900) = 1.8;
        // log10 P(X ≥ 4) = log10(26/252) = −0.986; Šidák over 2 layers: log10(1 − (1 − 26/252)²) = −0.708.
        lines[3].Should().Be("| a | 10 | 5 | 5 | 4 | 0.8000 | 0.5000 | 0.6667 | 0.6000 | 2 | 2.50 | 1.80 | -0.986 | -0.708 |");
        lines[5].Should().StartWith("| total | 20 | 6 | 6 | 5 | 0.8333 | 0.3000 | 0.7143 |").And.Contain("| ≤ -");
    }

    [Fact]
    public void CsvRowsAreInvariantAndRoundTrip()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var report = OverlapReport.Create(HandCase, new PooledOverlapNull());
            var lines = report.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines.Should().HaveCount(4);
            lines[0].Should().Be("layer,n,k1,k2,overlap,overlap_ratio,chance_ratio,jaccard,kappa,hamming,turned_on,turned_off,mu,sigma,z,log10_p,p_kind,log10_p_sidak,null");
            var a = lines[1].Split(',');
            a[0].Should().Be("a");
            a[1..5].Should().Equal("10", "5", "5", "4");
            double.Parse(a[5], CultureInfo.InvariantCulture).Should().Be(0.8);
            double.Parse(a[15], CultureInfo.InvariantCulture).Should().BeApproximately(Math.Log10(26.0 / 252), 1e-12);
            a[16].Should().Be("exact");
            var total = lines[3].Split(',');
            total[0].Should().Be("total");
            double.Parse(total[15], CultureInfo.InvariantCulture).Should().BeApproximately(Math.Log10(85.0 / 38760), 1e-12);
            total[18].Should().Be("pooled");
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void ReportFromMaskSetsUsesTheMaskCounts()
    {
        using var a = HandMasks.A();
        using var b = HandMasks.B();
        var report = OverlapReport.Create(a, b);
        report.Layers.Select(r => r.Counts.Overlap).Should().Equal(2L, 2L);
        report.Total.Counts.Should().Be(new LayerOverlap(MaskOverlap.TotalName, 11, 6, 6, 4));
        report.TotalNull.Null.Should().Be("layer-stratified");
        report.Layers[1].Log10P.Should().Be(0, "X = 2 is the smallest possible overlap in l2");
        report.ToCsv().Should().Contain("l2.weight,3,3,2,2,1,1,0.6666666666666666,,1,0,1,");
    }
}
