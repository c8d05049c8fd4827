namespace Sparsity.Tests;

public sealed class SeedDerivationTests
{
    [Fact]
    public void KnownAnswerFromAnIndependentSplitMix64()
    {
        // SplitMix64's first output for state 0 is 0xE220A8397B1DCDAF (Vigna's reference implementation);
        // Derive(s, name) is SplitMix64 of s XOR FNV-1a(name), and FNV-1a of "a" is 0xAF63DC4C8601EC8C.
        const ulong fnvA = 0xAF63DC4C8601EC8CUL;
        SeedDerivation.Derive(unchecked((long)fnvA), "a").Should().Be(0xE220A8397B1DCDAFUL);
    }

    [Fact]
    public void StreamsAndSeedsGiveDifferentGeneratorSeeds()
    {
        var seeds = new[] { 0L, 1L, 2L }.SelectMany(s => new[] { "random-criterion", "random-scores" }.Select(n => SeedDerivation.Derive(s, n))).ToList();
        seeds.Should().OnlyHaveUniqueItems();
        seeds.Should().NotContain([0UL, 1UL, 2UL]);
        SeedDerivation.Derive(5, "x").Should().Be(SeedDerivation.Derive(5, "x"));
    }

    [Fact]
    public void EmptyStreamNameIsRejected()
    {
        var act = () => SeedDerivation.Derive(1, "");
        act.Should().Throw<ArgumentException>().WithParameterName("stream");
    }
}
