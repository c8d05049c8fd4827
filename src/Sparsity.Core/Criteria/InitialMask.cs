namespace Sparsity;

/// <summary>The result of an <see cref="IMaskInitializer"/>: scores and the mask they select. Owns both.</summary>
public sealed class InitialMask : IDisposable
{
    /// <summary>Pairs scores with a mask over the same parameters.</summary>
    /// <exception cref="ArgumentException">The two sets name different parameters or shapes.</exception>
    public InitialMask(ScoreSet scores, MaskSet mask)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(mask);
        if (!scores.Names.SequenceEqual(mask.Names)
            || scores.Names.Any(n => !scores[n].shape.SequenceEqual(mask[n].shape)))
            throw new ArgumentException("Scores and mask must cover the same parameters with the same shapes.", nameof(mask));
        Scores = scores;
        Mask = mask;
    }

    /// <summary>The scores (higher = keep).</summary>
    public ScoreSet Scores { get; }

    /// <summary>The initial mask.</summary>
    public MaskSet Mask { get; }

    /// <summary>Disposes scores and mask.</summary>
    public void Dispose()
    {
        Scores.Dispose();
        Mask.Dispose();
    }
}
