using System.Text.Json.Nodes;

namespace Sparsity.LotteryVerification.Tests;

/// <summary>
/// Issue 21 item 2: a claim cannot certify itself. The tampering cases of the issue (expected bits edited, null model
/// switched, counts and fingerprint edited) are either rejected when the claim is read or, when applied in memory,
/// verify none of 1,000 unrelated 90 %-sparse masks.
/// </summary>
public sealed class ClaimTamperingTests
{
    private const string Layer = "conv.weight";
    private const int UnrelatedMasks = 1000;
    private static readonly long[] Shape = [30, 30, 1, 1];

    private static MaskSet Ticket(int seed) => TestMasks.Set((Layer, TestMasks.Random(Shape, 0.1, seed)));

    private static (SignatureCredential Keyed, SignatureCredential Qr) OwnerCredentials()
    {
        using var ticket = Ticket(1);
        var keyed = new KeyedSignatureScheme(OwnerKey.FromPassphrase("owner")).Plan(ticket);
        var qr = new QrSignatureScheme().Plan(ticket);
        return (keyed, qr);
    }

    private static string Edit(string json, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        edit(node);
        return node.ToJsonString();
    }

    public static TheoryData<string, string> FileTampering => new()
    {
        { "keyed", "bits all false" },
        { "keyed", "null model switched" },
        { "keyed", "bit count edited" },
        { "keyed", "mode edited" },
        { "keyed", "fingerprint edited" },
        { "keyed", "places compared" },
        { "keyed", "radius" },
        { "keyed", "numeric enum" },
        { "keyed", "short key" },
        { "keyed", "bit count out of range" },
        { "qr", "bits all false" },
        { "qr", "null model switched" },
        { "qr", "row edited" },
        { "qr", "row outside the layer" },
        { "qr", "message too long" },
        { "qr", "keyed field on a QR claim" },
        { "qr", "shape edited" },
        { "qr", "scheme unknown" },
        { "qr", "fingerprint missing" },
    };

    [Theory]
    [MemberData(nameof(FileTampering))]
    public void AnEditedClaimFileIsRejectedNamingTheFile(string scheme, string tampering)
    {
        var (keyed, qr) = OwnerCredentials();
        var json = (scheme == "keyed" ? keyed : qr).ToJson();
        var bits = new JsonArray(Enumerable.Range(0, 93).Select(i => (JsonNode)new JsonObject { ["Position"] = i, ["Expected"] = false }).ToArray());
        string edited = Edit(json, o =>
        {
            switch (tampering)
            {
                case "bits all false": o["Bits"] = bits; break;
                case "null model switched": o["NullModel"] = "ForcedOnHypergeometric"; break;
                case "bit count edited": o["BitCount"] = 30; break;
                case "mode edited": o["Mode"] = "ForcedOn"; break;
                case "fingerprint edited": o["Fingerprint"] = new string('0', 64); break;
                case "places compared": o["PlacesCompared"] = 1; break;
                case "radius": o["MaxBitErrors"] = -1; break;
                case "numeric enum": o["Mode"] = 7; break;
                case "short key": o["Key"] = Convert.ToBase64String(new byte[16]); break;
                case "bit count out of range": o["BitCount"] = -1; break;
                case "row edited": o["Row"] = 0; o["Column"] = 1; break;
                case "row outside the layer": o["Row"] = 5; break;
                case "message too long": o["Message"] = new string('x', 30); break;
                case "keyed field on a QR claim": o["BitCount"] = 10; break;
                case "shape edited": o["LayerShape"] = new JsonArray(64, 64, 1, 1); break;
                case "scheme unknown": o["Scheme"] = "trusted"; break;
                case "fingerprint missing": o.Remove("Fingerprint"); break;
                default: throw new ArgumentException(tampering);
            }
        });
        edited.Should().NotBe(json);
        var path = Path.Combine(Path.GetTempPath(), $"claim-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, edited);
            var act = () => OwnershipClaim.Load(path);
            act.Should().Throw<SparsityFormatException>().Which.Message.Should().StartWith(path);
            var viaCredential = () => SignatureCredential.Load(path);
            viaCredential.Should().Throw<SparsityFormatException>();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TamperedCredentialsInMemoryVerifyNoUnrelatedMask()
    {
        var (keyed, qr) = OwnerCredentials();
        var allFalse = keyed with
        {
            Bits = keyed.Bits.Select(b => b with { Expected = false }).ToList(),
            NullModel = SignatureNullModel.ForcedOnHypergeometric,
            PlacesCompared = 0,
        };
        var qrAllFalse = qr with { Bits = qr.Bits.Select(b => b with { Expected = false }).ToList(), NullModel = SignatureNullModel.FairCoin };

        // Re-committed edits: a consistent claim with another bit count or mode. It is a different claim, so it fails
        // against the owner's published fingerprint, and without one it is just a claim nobody embedded.
        var fewer = (keyed.Claim with { BitCount = 30, Mode = KeyedTargetMode.ForcedOn }).WithFingerprint();
        var moved = (qr.Claim with { Row = 1, Column = 0 }).WithFingerprint();
        var verifier = new OwnershipVerifier();
        var published = new VerificationOptions { PublishedFingerprint = keyed.Claim.Fingerprint };
        using (var owner = Ticket(1))
        {
            var act = () => verifier.Verify(owner, fewer, published);
            act.Should().Throw<ArgumentException>().WithMessage("*not the published fingerprint*");
        }

        int verified = 0, below1e3 = 0;
        for (int seed = 1000; seed < 1000 + UnrelatedMasks; seed++)
        {
            using var suspect = Ticket(seed);
            foreach (var (claim, model) in new[]
            {
                (allFalse.Claim, SignatureNullModel.FairCoin), (qrAllFalse.Claim, SignatureNullModel.QrNearestAlternative),
                (fewer, SignatureNullModel.ForcedOnHypergeometric), (moved, SignatureNullModel.QrNearestAlternative),
            })
            {
                var verdict = verifier.Verify(suspect, claim);
                verdict.NullModel.Should().Be(model, "the verifier chooses the null model from the scheme");
                verified += verdict.Verified ? 1 : 0;
                below1e3 += verdict.Log10FalsePositive <= -3 ? 1 : 0;
            }

            // The in-memory credential's edited bits are ignored: the verdict is the one of the owner's claim.
            if (seed % 10 == 0)
            {
                verifier.Verify(suspect, allFalse).Should().Be(verifier.Verify(suspect, keyed));
            }
        }

        verified.Should().Be(0);
        below1e3.Should().BeLessThanOrEqualTo(11, "4,000 false claims at 1e-3 expect at most 4 (slack: 3 sd + 1)");
    }
}
