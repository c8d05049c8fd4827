namespace Sparsity.LotteryVerification;

/// <summary>Options of <see cref="OwnershipVerifier"/>, validated at entry.</summary>
public sealed record VerificationOptions
{
    /// <summary>Accept the claim when its (multiplicity-adjusted) false-positive probability is at most this (default 1e-9).</summary>
    public double FalsePositiveRate { get; init; } = 1e-9;

    /// <summary>
    /// Further independent tests to pay for (claims or keys tried against this suspect), ≥ 1. For a QR claim the verifier
    /// also pays for every 29×29 window of every suspect layer of the signed layer's rank (counted by the verifier, never
    /// read from the claim): a claimant could have chosen the place after seeing the suspect.
    /// </summary>
    public long AdditionalTests { get; init; } = 1;

    /// <summary>
    /// The fingerprint the owner published before the dispute (<see cref="OwnershipClaim.Fingerprint"/>), or null to skip
    /// the check. When set, a claim whose recomputed fingerprint differs is rejected with an <see cref="ArgumentException"/>.
    /// </summary>
    public string? PublishedFingerprint { get; init; }

    /// <summary>
    /// QR credentials only: search the pattern over every window of every suspect layer with the signed layer's kernel rank
    /// (for a suspect whose layers were renamed or reordered) instead of reading the recorded place; each window is a test.
    /// </summary>
    public bool SearchAllWindows { get; init; }
}
