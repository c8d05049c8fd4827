using Sparsity.Analysis;

namespace Sparsity.Tests.Analysis;

public sealed class HypergeometricDrawsTests
{
    // Stömmer (2023) TOTO 13er Wette (docs/statistics.md#multiple-testing): N = (1/p)^13 tips; S tips with enough hits.
    // Expected pairs (approximate eq. 15, exact) computed with 40-digit mpmath.
    [Theory]
    [InlineData(1_594_323L, 2_627L, 0.9, 1397L, 1396L)]
    [InlineData(1_594_323L, 2_627L, 0.99, 2793L, 2791L)]
    [InlineData(1_594_323L, 2_627L, 0.999, 4187L, 4184L)]
    [InlineData(1_594_323L, 2_627L, 0.9999, 5580L, 5576L)]
    [InlineData(8_192L, 378L, 0.9, 50L, 49L)]
    [InlineData(8_192L, 378L, 0.9999, 198L, 193L)]
    [InlineData(8_192L, 92L, 0.99, 400L, 398L)]
    [InlineData(8_192L, 14L, 0.999, 3191L, 3188L)]
    [InlineData(8_192L, 1L, 0.9, 7373L, 7373L)]
    [InlineData(8_192L, 1L, 0.99, 8111L, 8111L)]
    public void DrawsForHitReproducesTheTotoTable(long population, long good, double safety, long approximate, long exact)
    {
        Hypergeometric.DrawsForHit(population, good, safety).Should().Be(approximate);
        Hypergeometric.DrawsForHitExact(population, good, safety).Should().Be(exact);
    }

    [Fact]
    public void ApproximationIsConservative()
    {
        var rng = new Random(13);
        for (int i = 0; i < 300; i++)
        {
            long n = (long)Math.Pow(10, 1 + (rng.NextDouble() * 8));
            long s = 1 + rng.NextInt64(Math.Max(1, n / 10));
            double q = 1 - Math.Pow(10, -1 - (rng.NextDouble() * 8));
            long approx = Hypergeometric.DrawsForHit(n, s, q);
            long exact = Hypergeometric.DrawsForHitExact(n, s, q);
            string because = $"N={n}, S={s}, Q={q}";
            approx.Should().BeGreaterThanOrEqualTo(exact, because);
            double logMissAtApprox = Hypergeometric.LogMissProbability(n, s, approx);
            logMissAtApprox.Should().BeLessThanOrEqualTo(Math.Log(1 - q) + 1e-12, "the approximate n reaches Q exactly, " + because);
            if (exact > 1)
            {
                Hypergeometric.LogMissProbability(n, s, exact - 1).Should().BeGreaterThan(Math.Log(1 - q), "exact is the smallest, " + because);
            }
        }
    }

    [Fact]
    public void MissProbabilityIsTheProductFormula()
    {
        // C(N − S, n)/C(N, n) = Π (N − S − i)/(N − i): N = 10, S = 3, n = 4 → (7·6·5·4)/(10·9·8·7) = 1/6.
        Hypergeometric.LogMissProbability(10, 3, 4).Should().BeApproximately(Math.Log(1.0 / 6), 1e-14);
        Hypergeometric.LogMissProbability(10, 3, 8).Should().Be(double.NegativeInfinity);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        FluentActions.Invoking(() => Hypergeometric.DrawsForHit(100, 0, 0.9)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("successes");
        FluentActions.Invoking(() => Hypergeometric.DrawsForHit(100, 5, 1.0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("safety");
        FluentActions.Invoking(() => Hypergeometric.DrawsForHitExact(0, 1, 0.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("population");
    }
}
