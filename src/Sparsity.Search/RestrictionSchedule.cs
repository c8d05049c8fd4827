namespace Sparsity.Search;

/// <summary>
/// The fraction of a layer's candidate swaps the short restriction may carry out in an epoch
/// (the <c>rate</c> of LJ <c>PretrainConv.final_pop_up</c>, docs/algorithms.md#the-short-restriction): the layer swaps
/// <c>m = ⌈pairs · rate⌉</c> pairs.
/// </summary>
public abstract record RestrictionSchedule
{
    private protected RestrictionSchedule()
    {
    }

    /// <summary>
    /// The released code's schedule (default): <c>rate = ⌈(1 − e/E)⁴⌉</c>, which is 1 in every epoch
    /// e ∈ [0, E), so every candidate pair is swapped.
    /// </summary>
    public static RestrictionSchedule Official { get; } = new OfficialCeil();

    /// <summary>The decaying fraction <c>(1 − e/E)⁴</c> without the ceiling (the dormant schedule's evident intent).</summary>
    public static RestrictionSchedule Decaying { get; } = new DecayingFraction();

    /// <summary>A constant fraction of the candidate pairs in every epoch.</summary>
    /// <param name="fraction">The fraction, in (0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">Outside (0, 1].</exception>
    public static RestrictionSchedule Constant(double fraction) => new ConstantFraction(fraction);

    /// <summary>Short name for reports ("official", "decaying", "constant(0.5)").</summary>
    public abstract string Name { get; }

    /// <summary>The rate for epoch <paramref name="epoch"/> (0-based) of <paramref name="epochs"/>, in (0, 1].</summary>
    /// <param name="epoch">The current epoch, 0 ≤ epoch &lt; epochs.</param>
    /// <param name="epochs">Total number of search epochs.</param>
    public abstract double Rate(int epoch, int epochs);

    /// <summary>Pairs to swap out of <paramref name="pairs"/> candidates: <c>⌈pairs · rate⌉</c>, at most <paramref name="pairs"/>.</summary>
    /// <param name="pairs">Number of candidate pairs.</param>
    /// <param name="epoch">The current epoch (0-based).</param>
    /// <param name="epochs">Total number of search epochs.</param>
    public long Pairs(long pairs, int epoch, int epochs) =>
        Math.Min(pairs, (long)Math.Ceiling(pairs * Rate(epoch, epochs)));

    /// <inheritdoc />
    public override string ToString() => Name;

    private static double Decay(int epoch, int epochs) => Math.Pow(1.0 - (double)epoch / epochs, 4);

    private sealed record OfficialCeil : RestrictionSchedule
    {
        public override string Name => "official";

        public override double Rate(int epoch, int epochs) => Math.Ceiling(Decay(epoch, epochs));
    }

    private sealed record DecayingFraction : RestrictionSchedule
    {
        public override string Name => "decaying";

        public override double Rate(int epoch, int epochs) => Decay(epoch, epochs);
    }

    private sealed record ConstantFraction : RestrictionSchedule
    {
        public ConstantFraction(double fraction)
        {
            if (!(fraction > 0.0 && fraction <= 1.0))
            {
                throw new ArgumentOutOfRangeException(nameof(fraction), fraction,
                    "The constant restriction fraction must lie in (0, 1]; 1 swaps every candidate pair.");
            }

            Fraction = fraction;
        }

        public double Fraction { get; }

        public override string Name => FormattableString.Invariant($"constant({Fraction})");

        public override double Rate(int epoch, int epochs) => Fraction;
    }
}
