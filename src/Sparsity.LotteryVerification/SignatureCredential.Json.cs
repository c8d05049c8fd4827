namespace Sparsity.LotteryVerification;

/// <summary>
/// Persistence of credentials: a credential is stored as its <see cref="OwnershipClaim"/> (the secret and the parameters;
/// keep the file secret and publish its fingerprint) and re-derived on reading, so no bit, position or null model is ever
/// read from a file.
/// </summary>
public sealed partial record SignatureCredential
{
    /// <summary>The credential's claim as JSON (<see cref="OwnershipClaim.ToJson"/>).</summary>
    public string ToJson() => Claim.ToJson();

    /// <summary>Reads a claim from JSON and re-derives its credential.</summary>
    /// <param name="json">Text written by <see cref="ToJson"/>.</param>
    /// <exception cref="SparsityFormatException">The text is not a valid claim (the message says why).</exception>
    public static SignatureCredential FromJson(string json) => OwnershipClaim.FromJson(json).Derive();

    /// <summary>Writes the credential's claim atomically.</summary>
    /// <param name="path">Target file.</param>
    public void Save(string path) => Claim.Save(path);

    /// <summary>Reads a claim written by <see cref="Save"/> and re-derives its credential.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="SparsityFormatException">The file is not a valid claim (the message names the file).</exception>
    public static SignatureCredential Load(string path) => OwnershipClaim.Load(path).Derive();
}
