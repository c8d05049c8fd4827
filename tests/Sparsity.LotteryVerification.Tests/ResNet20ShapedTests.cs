using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification.Tests;

/// <summary>
/// Mask-level robustness on the 18 pruned convolutions of a CIFAR ResNet-20 (stem excluded, as in the paper) at the
/// paper's extreme-ticket density 19.369 %: weights are random (no training), so these are statements about the
/// masks and the decision rule, not about accuracy.
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class ResNet20ShapedTests(ITestOutputHelper output)
{
    private const double Density = 0.19369;

    private static (nn.Module Model, MaskSet Ticket) Build(int seed)
    {
        torch.manual_seed(seed);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        var masks = new List<(string, Tensor)>();
        int index = 0;
        foreach (var (stage, width) in new[] { (1, 16), (2, 32), (3, 64) })
        {
            for (int block = 0; block < 3; block++)
            {
                for (int conv = 1; conv <= 2; conv++)
                {
                    int input = stage > 1 && block == 0 && conv == 1 ? width / 2 : width;
                    string name = $"layer{stage}_{block}_conv{conv}";
                    layers.Add((name, nn.Conv2d(input, width, 3, bias: false)));
                    masks.Add(($"{name}.weight", TestMasks.Random([width, input, 3, 3], Density, seed * 100 + index++)));
                }
            }
        }

        var model = nn.Sequential(layers);
        var ticket = TestMasks.Set([.. masks]);
        ticket.ApplyTo(model);
        return (model, ticket);
    }

    private static void Fill(nn.Module model, MaskSet mask)
    {
        // Stand-in for retraining: every kept weight non-zero.
        using var noGrad = no_grad();
        foreach (var name in mask.Names)
        {
            var w = model.get_parameter(name)!;
            using var filled = where(w.eq(0), full_like(w, 0.05f), w).mul(mask[name]);
            w.copy_(filled);
        }
    }

    [Theory]
    [InlineData("qr")]
    [InlineData("keyed")]
    public void ClaimSurvivesTenPercentRepruningAndUnrelatedTicketsAreRejected(string which)
    {
        var (model, ticket) = Build(1);
        using var _ = ticket;
        ISignatureScheme scheme = which == "qr"
            ? new QrSignatureScheme(new QrSignatureOptions { CandidateLayers = ["layer2_*"] })
            : new KeyedSignatureScheme(OwnerKey.FromPassphrase("owner"), new KeyedSignatureOptions { Layer = "layer3_2_conv2.weight" });
        using var signed = scheme.Embed(ticket, seed: 2);
        signed.Mask.KeptCount.Should().Be(ticket.KeptCount);
        Fill(model, signed.Mask);
        var verifier = new OwnerVerifierProbe(output, which);

        verifier.Check("owner", model, signed.Credential).Verified.Should().BeTrue();
        using (var m10 = OwnershipAttacks.Reprune(model, signed.Mask, 0.10, RepruneMethod.Random, seed: 3))
        {
            verifier.Check("random prune 10 %", model, signed.Credential).Verified.Should().BeTrue();
        }

        var (other, otherTicket) = Build(7);
        using var __ = otherTicket;
        Fill(other, otherTicket);
        verifier.Check("unrelated ticket", other, signed.Credential).Verified.Should().BeFalse();

        ISignatureScheme thief = which == "qr"
            ? new QrSignatureScheme(new QrSignatureOptions { Message = "thief", CandidateLayers = ["layer2_*"] })
            : new KeyedSignatureScheme(OwnerKey.FromPassphrase("thief"), new KeyedSignatureOptions { Layer = "layer3_2_conv2.weight" });
        var forged = OwnershipAttacks.ForgedClaim(thief, signed.Mask);
        verifier.Check("forged claim", model, forged).Verified.Should().BeFalse();
    }

    private sealed class OwnerVerifierProbe(ITestOutputHelper output, string scheme)
    {
        public OwnershipVerdict Check(string what, nn.Module model, SignatureCredential credential)
        {
            var v = new OwnershipVerifier().Verify(model, credential);
            output.WriteLine($"{scheme,-5} {what,-18} {v.Matches,4}/{v.Bits,-4} BER {v.BitErrorRate:F3}  log10 FPR {v.Log10FalsePositive,9:F2}  {(v.Verified ? "verified" : "rejected")}");
            return v;
        }
    }
}
