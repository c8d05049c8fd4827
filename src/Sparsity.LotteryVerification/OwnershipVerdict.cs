namespace Sparsity.LotteryVerification;

/// <summary>The outcome of one ownership check.</summary>
/// <param name="Scheme">Scheme of the credential.</param>
/// <param name="Layer">Layer where the bits were read.</param>
/// <param name="Row">Window row (QR), else null.</param>
/// <param name="Column">Window column (QR), else null.</param>
/// <param name="Bits">Number of signature bits m.</param>
/// <param name="Matches">Bits that match.</param>
/// <param name="BitErrorRate">1 − matches / m.</param>
/// <param name="Log10FalsePositive">log₁₀ of the probability that an unrelated model matches at least this well, after the Šidák correction for <paramref name="PlacesSearched"/>.</param>
/// <param name="PlacesSearched">Tests paid for (windows searched × additional tests).</param>
/// <param name="Log10Threshold">log₁₀ of the accepted false-positive rate.</param>
/// <param name="Verified">Whether <paramref name="Log10FalsePositive"/> ≤ <paramref name="Log10Threshold"/>.</param>
/// <param name="NullModel">The null model the verifier chose for the scheme.</param>
/// <param name="NullDescription">The null model in words, with its parameters (for example the nearest-alternative distance of a QR claim).</param>
public sealed record OwnershipVerdict(
    string Scheme,
    string Layer,
    int? Row,
    int? Column,
    int Bits,
    int Matches,
    double BitErrorRate,
    double Log10FalsePositive,
    long PlacesSearched,
    double Log10Threshold,
    bool Verified,
    SignatureNullModel NullModel,
    string NullDescription);
