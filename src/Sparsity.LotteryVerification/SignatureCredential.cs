namespace Sparsity.LotteryVerification;

/// <summary>What one signature bit addresses in its layer.</summary>
public enum SignatureGranularity
{
    /// <summary>A single weight position (flat index into the layer's weight); the bit is the mask value.</summary>
    Weight,

    /// <summary>A channel pair (cell <c>out · C_in + in</c>); the bit is <c>B[out, in]</c> of <see cref="ChannelConnectivity"/>.</summary>
    ChannelPair,
}

/// <summary>The null model under which a signature's false-positive probability is computed (docs/statistics.md#false-positives-of-a-signature).</summary>
public enum SignatureNullModel
{
    /// <summary>Keyed, whitened target bits: each bit of an unrelated mask matches with probability exactly ½, independently: X ~ Bin(m, ½).</summary>
    FairCoin,

    /// <summary>
    /// Keyed forced-on positions (all targets on) drawn uniformly without replacement inside one layer: X ~ Hypergeom(n, k, m),
    /// with n the layer's positions and k the suspect's kept positions. Exact by the key's randomness.
    /// </summary>
    ForcedOnHypergeometric,

    /// <summary>
    /// Structured (QR) pattern: each cell of the suspect is on with an unknown probability q, independently; matches are
    /// Bin(m₁, q) + Bin(m₀, 1 − q). We report the supremum over q (conservative in q; cell independence is an assumption).
    /// </summary>
    ChannelOccupancy,
}

/// <summary>One signature bit: a position in the signed layer and the value an owner's mask has there.</summary>
/// <param name="Position">Flat weight index (<see cref="SignatureGranularity.Weight"/>) or channel cell <c>out · C_in + in</c>.</param>
/// <param name="Expected">The signed value (true = kept / connected).</param>
public sealed record SignatureBit(long Position, bool Expected);

/// <summary>
/// Everything an owner keeps secret (or commits to) to verify a signature later: the scheme, the signed layer and its
/// shape, the placement (QR offset), the bits and the null model. The QR scheme's credential records layer + offset
/// because the official code hard-codes them per run (docs/algorithms.md#quirks-of-the-official-code).
/// </summary>
public sealed partial record SignatureCredential
{
    /// <summary>Name of the scheme that made the credential.</summary>
    public required string Scheme { get; init; }

    /// <summary>State-dict key of the signed parameter.</summary>
    public required string Layer { get; init; }

    /// <summary>Shape of the signed parameter.</summary>
    public required IReadOnlyList<long> LayerShape { get; init; }

    /// <summary>What the bits address.</summary>
    public required SignatureGranularity Granularity { get; init; }

    /// <summary>Null model for the false-positive probability.</summary>
    public required SignatureNullModel NullModel { get; init; }

    /// <summary>The signature bits (distinct positions).</summary>
    public required IReadOnlyList<SignatureBit> Bits { get; init; }

    /// <summary>Top row (output channel) of the pattern window (QR scheme), else null.</summary>
    public int? Row { get; init; }

    /// <summary>Left column (input channel) of the pattern window (QR scheme), else null.</summary>
    public int? Column { get; init; }

    /// <summary>Side of the square pattern window (29 for a version-3 QR code), else null.</summary>
    public int? PatternSize { get; init; }

    /// <summary>Number of (layer, offset) places the embedding compared to choose the placement (informational).</summary>
    public long PlacesCompared { get; init; } = 1;

    /// <summary>
    /// Bounded-distance limit (QR scheme): the most bit errors a claim may have, ⌊(d − 1)/2⌋ with d the payload distance
    /// to the nearest code of a message one edit away (<see cref="QrPattern.NearestAlternativeDistance"/>). Structured codes
    /// are not independent of each other, so the occupancy null alone cannot tell the owner's code from a near one;
    /// inside this radius at most one message can be claimed per place. Null = no limit (keyed scheme).
    /// </summary>
    public int? MaxBitErrors { get; init; }

    /// <summary>SHA-256 fingerprint of the owner key (keyed scheme), else null.</summary>
    public string? KeyFingerprint { get; init; }

    /// <summary>Number of bits expected on.</summary>
    public int ExpectedOn => Bits.Count(b => b.Expected);

    /// <summary>Number of channel cells of the signed layer (rows × columns).</summary>
    internal long CellCount => LayerShape[0] * LayerShape[1];

    /// <summary>Number of weights of the signed layer.</summary>
    internal long WeightCount => LayerShape.Aggregate(1L, (a, b) => a * b);
}
