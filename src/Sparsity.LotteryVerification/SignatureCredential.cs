namespace Sparsity.LotteryVerification;

/// <summary>What one signature bit addresses in its layer.</summary>
public enum SignatureGranularity
{
    /// <summary>A single weight position (flat index into the layer's weight); the bit is the mask value.</summary>
    Weight,

    /// <summary>A channel pair (cell <c>out · C_in + in</c>); the bit is <c>B[out, in]</c> of <see cref="ChannelConnectivity"/>.</summary>
    ChannelPair,
}

/// <summary>The null model under which a signature's false-positive probability is computed, chosen by the verifier from the scheme.</summary>
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
    /// QR pattern on its data and error-correction modules only: the larger of two tails, each a supremum over an unknown
    /// rate. (a) An unrelated suspect: each module on with unknown probability q, independently:
    /// Bin(m₁, q) + Bin(m₀, 1 − q). (b) A suspect carrying the nearest alternative code (another message, one edit away,
    /// at payload distance d) with every module flipped independently at an unknown rate ε: Bin(m − d, 1 − ε) + Bin(d, ε).
    /// Module independence is an assumption; near messages give near codes, which (b) accounts for.
    /// </summary>
    QrNearestAlternative,
}

/// <summary>One signature bit: a position in the signed layer and the value an owner's mask has there.</summary>
/// <param name="Position">Flat weight index (<see cref="SignatureGranularity.Weight"/>) or channel cell <c>out · C_in + in</c>.</param>
/// <param name="Expected">The signed value (true = kept / connected).</param>
public sealed record SignatureBit(long Position, bool Expected);

/// <summary>
/// A signature expanded from its <see cref="OwnershipClaim"/>: the signed layer, the bits (positions and expected values)
/// and the null model, all re-derived from the owner's secret by the scheme (<see cref="OwnershipClaim.Derive"/>). Made
/// only by the schemes; the verifier trusts none of its fields but <see cref="Claim"/>, from which it derives them again.
/// </summary>
public sealed partial record SignatureCredential
{
    internal SignatureCredential()
    {
    }

    /// <summary>What the owner reveals (secret, parameters, fingerprint); everything else here follows from it.</summary>
    public required OwnershipClaim Claim { get; init; }

    /// <summary>Name of the scheme that made the credential.</summary>
    public required string Scheme { get; init; }

    /// <summary>State-dict key of the signed parameter.</summary>
    public required string Layer { get; init; }

    /// <summary>Shape of the signed parameter.</summary>
    public required IReadOnlyList<long> LayerShape { get; init; }

    /// <summary>What the bits address.</summary>
    public required SignatureGranularity Granularity { get; init; }

    /// <summary>Null model for the false-positive probability (the scheme's; the verifier chooses it again from the claim).</summary>
    public required SignatureNullModel NullModel { get; init; }

    /// <summary>The signature bits (distinct positions).</summary>
    public required IReadOnlyList<SignatureBit> Bits { get; init; }

    /// <summary>Top row (output channel) of the pattern window (QR scheme), else null.</summary>
    public int? Row { get; init; }

    /// <summary>Left column (input channel) of the pattern window (QR scheme), else null.</summary>
    public int? Column { get; init; }

    /// <summary>Side of the square pattern window (29 for a version-3 QR code), else null.</summary>
    public int? PatternSize { get; init; }

    /// <summary>Number of (layer, offset) places the planner compared to choose the placement (informational; never used by the verifier).</summary>
    public long PlacesCompared { get; init; } = 1;

    /// <summary>Number of bits expected on.</summary>
    public int ExpectedOn => Bits.Count(b => b.Expected);

    /// <summary>Number of channel cells of the signed layer (rows × columns).</summary>
    internal long CellCount => LayerShape[0] * LayerShape[1];

    /// <summary>Number of weights of the signed layer.</summary>
    internal long WeightCount => LayerShape.Aggregate(1L, (a, b) => a * b);
}
