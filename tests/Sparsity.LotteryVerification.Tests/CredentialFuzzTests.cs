using System.Text;
using Sparsity.Tests.Fuzzing;

namespace Sparsity.LotteryVerification.Tests;

/// <summary>
/// Mutation fuzzing of ownership claim files (<see cref="OwnershipClaim"/> JSON, read through
/// <see cref="SignatureCredential.Load"/>; <see cref="FileFuzzer"/>, <c>SPARSITY_FUZZ_ITERATIONS=10000</c> for the full
/// run, recorded in docs/core.md). The claim's fingerprint is a SHA-256 commitment over every field, so a corrupted file
/// is either rejected with <see cref="SparsityFormatException"/> or reads as exactly the original claim (a mutation
/// that only changed whitespace or member order); a different claim is a failure.
/// </summary>
public sealed class CredentialFuzzTests
{
    private static OwnershipClaim Keyed() => OwnershipClaim.ForKey(
        OwnerKey.FromPassphrase("fuzz owner"), "layer1.0.conv1.weight", [16, 8, 3, 3],
        SignatureGranularity.Weight, KeyedTargetMode.Whitened, 48, Encoding.UTF8.GetBytes("owner payload"));

    private static OwnershipClaim Qr() => OwnershipClaim.ForQr("signature", "layer2.1.conv1.weight", [32, 40, 3, 3], 1, 5);

    private static string Describe(string path)
    {
        var credential = SignatureCredential.Load(path);
        var json = credential.ToJson();
        SignatureCredential.FromJson(json).ToJson().Should().Be(json, "an accepted claim round-trips");
        return json + "|" + string.Join(",", credential.Bits.Select(b => $"{b.Position}:{b.Expected}"));
    }

    [Theory]
    [InlineData("keyed", 19006)]
    [InlineData("qr", 19007)]
    public void MutatedClaimsAreRejectedWithTheFormatExceptionOrReadAsTheSameClaim(string scheme, int seed)
    {
        var original = Encoding.UTF8.GetBytes((scheme == "qr" ? Qr() : Keyed()).ToJson());
        int n = FileFuzzer.Iterations;
        var (identical, rejected) = FileFuzzer.Run<SparsityFormatException>(original, FileFuzzer.MutateJson, Describe, n, seed, ".json");
        (identical + rejected).Should().Be(n);
        rejected.Should().BeGreaterThan(n / 2);
    }
}
