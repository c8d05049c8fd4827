using System.Text;
using Sparsity.Tests.Fuzzing;

namespace Sparsity.LotteryVerification.Tests;

/// <summary>
/// Mutation fuzzing of ownership claim files (<see cref="SignatureCredential"/> JSON; <see cref="FileFuzzer"/>,
/// <c>SPARSITY_FUZZ_ITERATIONS=10000</c> for the full run, recorded in docs/core.md). A corrupted file is rejected
/// with <see cref="FormatException"/> (the documented type) or read as a credential that passes
/// <see cref="SignatureCredential.Validate"/> and round-trips. The JSON carries no checksum (the claim format is
/// to be redesigned), so a mutation that edits a value into another valid value reads as a different credential;
/// the test counts those.
/// </summary>
public sealed class CredentialFuzzTests
{
    private static SignatureCredential Keyed() => new()
    {
        Scheme = "keyed",
        Layer = "layer1.0.conv1.weight",
        LayerShape = [16, 8, 3, 3],
        Granularity = SignatureGranularity.Weight,
        NullModel = SignatureNullModel.FairCoin,
        Bits = Enumerable.Range(0, 48).Select(i => new SignatureBit(i * 23 + 5, i % 3 == 0)).ToList(),
        KeyFingerprint = new string('a', 64),
    };

    private static SignatureCredential Qr() => new()
    {
        Scheme = "qr",
        Layer = "layer2.1.conv1.weight",
        LayerShape = [32, 40, 3, 3],
        Granularity = SignatureGranularity.ChannelPair,
        NullModel = SignatureNullModel.ChannelOccupancy,
        Bits = Enumerable.Range(0, 30).Select(i => new SignatureBit(i * 37 + 41, i % 2 == 0)).ToList(),
        Row = 1,
        Column = 5,
        PatternSize = 29,
        PlacesCompared = 64,
        MaxBitErrors = 3,
    };

    private static string Describe(string path)
    {
        var credential = SignatureCredential.Load(path);
        credential.Validate();
        var json = credential.ToJson();
        SignatureCredential.FromJson(json).ToJson().Should().Be(json, "an accepted credential round-trips");
        return json;
    }

    [Theory]
    [InlineData("keyed", 19006)]
    [InlineData("qr", 19007)]
    public void MutatedCredentialsAreRejectedWithTheFormatExceptionOrReadAsValidCredentials(string scheme, int seed)
    {
        var original = Encoding.UTF8.GetBytes((scheme == "qr" ? Qr() : Keyed()).ToJson());
        int n = FileFuzzer.Iterations;
        var (identical, different, rejected) = FileFuzzer.RunCounting<FormatException>(original, FileFuzzer.MutateJson, Describe, n, seed, ".json", differentAllowed: true);
        (identical + different + rejected).Should().Be(n);
        rejected.Should().BeGreaterThan(n / 2);
    }

    [Fact]
    public void OutOfRangeWindowsAndFieldsAreFormatErrors()
    {
        var qr = Qr();
        foreach (var bad in new[]
        {
            qr with { Row = 10 },                 // 10 + 29 > 32 rows
            qr with { PatternSize = null },       // a window must be given whole
            qr with { PlacesCompared = 0 },
            qr with { MaxBitErrors = -1 },
            qr with { LayerShape = [long.MaxValue, 4, 3, 3] },
            Keyed() with { KeyFingerprint = "xyz" },
            Keyed() with { Granularity = (SignatureGranularity)7 },
        })
        {
            var act = () => SignatureCredential.FromJson(bad.ToJson());
            act.Should().Throw<FormatException>();
        }

        var surrogate = () => SignatureCredential.FromJson(qr.ToJson().Replace("\"qr\"", "\"q\\ud800r\""));
        surrogate.Should().Throw<FormatException>();
    }
}
