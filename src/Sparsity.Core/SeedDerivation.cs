namespace Sparsity;

/// <summary>
/// Derives independent generator seeds from one user seed, one per named random stream.
/// </summary>
/// <remarks>
/// A model initialised after <c>torch.manual_seed(s)</c> draws its weights from exactly the uniform stream
/// that <c>new Generator(s)</c> produces. A "random" criterion or random score initialisation seeded with the
/// same <c>s</c> would therefore track the initial weights (the random baseline would keep the largest
/// initial weights). Every seeded stream of the library goes through <see cref="Derive"/>: SplitMix64
/// (Steele et al., 2014) of the seed combined with an FNV-1a hash of the stream's name.
/// </remarks>
public static class SeedDerivation
{
    /// <summary>The generator seed of the stream <paramref name="stream"/> for the user seed <paramref name="seed"/>.</summary>
    /// <param name="seed">The user's seed.</param>
    /// <param name="stream">A fixed name of the random stream (for example <c>"random-criterion"</c>).</param>
    public static ulong Derive(long seed, string stream)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        var hash = 14695981039346656037UL;
        foreach (var c in stream)
        {
            hash = unchecked((hash ^ c) * 1099511628211UL);
        }

        var z = unchecked((ulong)seed ^ hash) + 0x9E3779B97F4A7C15UL;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
