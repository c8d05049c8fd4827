using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification.Tests;

/// <summary>
/// Ownership signatures in tickets of the TorchVision package's models (0.107.0, torchvision's names): a one-shot
/// global magnitude ticket of <c>resnet18</c> and <c>mobilenet_v2</c> (random weights, classifier dense), signed,
/// shipped as a model whose pruned weights are zero, and verified from the weights.
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class TorchVisionVerificationTests
{
    public static TheoryData<string> Names => new() { "resnet18", "mobilenet_v2" };

    private static (nn.Module<Tensor, Tensor> Model, MaskSet Ticket) Ticket(string name, long seed, double density)
    {
        random.manual_seed(seed);
        nn.Module<Tensor, Tensor> model = name == "resnet18"
            ? torchvision.models.resnet18(num_classes: 10)
            : torchvision.models.mobilenet_v2(num_classes: 10);
        // Name the classifier: TorchVision's MobileNetV2 registers it before its features (KeepLastLayerDense would miss it).
        var parameters = new ParameterSelector(new ParameterSelectorOptions { Exclude = [name == "resnet18" ? "fc.weight" : "classifier.1.weight"] }).Select(model);
        using var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
        return (model, new GlobalAllocation().Allocate(scores, 1 - density));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void AKeyedSignatureInATorchVisionTicketIsVerifiedFromTheWeightsAndAnUnsignedTicketIsNot(string name)
    {
        var (model, ticket) = Ticket(name, seed: 0, density: 0.2);
        using var _m = model;
        using var _t = ticket;
        var scheme = new KeyedSignatureScheme(OwnerKey.FromPassphrase("torchvision-test-owner"));
        using var signed = scheme.Embed(ticket, seed: 0);
        signed.Mask.KeptCount.Should().Be(ticket.KeptCount, "embedding keeps the kept count");
        ticket.Names.Should().Contain(signed.Credential.Layer);

        var verifier = new OwnershipVerifier();
        verifier.Verify(signed.Mask, signed.Credential).Verified.Should().BeTrue();
        verifier.Verify(ticket, signed.Credential).Verified.Should().BeFalse("the unsigned ticket does not carry the key's bits");

        // Ship the signed ticket: pruned weights become zero; the verifier reads kept = weight ≠ 0.
        var (suspect, _) = Ticket(name, seed: 0, density: 0.2);
        using var _s = suspect;
        signed.Mask.ApplyTo(suspect);
        var verdict = verifier.Verify(suspect, signed.Credential);
        verdict.Verified.Should().BeTrue();
        verdict.Matches.Should().Be(verdict.Bits);
    }

    [Fact]
    public void TheQrSignatureFitsAResNet18LayerWith64By64ChannelPairsAndSurvivesTenPercentMagnitudeRepruning()
    {
        var (model, ticket) = Ticket("resnet18", seed: 1, density: 0.2);
        using var _m = model;
        using var _t = ticket;
        using var signed = new QrSignatureScheme(new QrSignatureOptions { CandidateLayers = ["layer1.*"] }).Embed(ticket, seed: 0);
        signed.Credential.Layer.Should().StartWith("layer1.");
        signed.Mask.KeptCount.Should().Be(ticket.KeptCount);
        signed.Mask.ApplyTo(model);
        var verifier = new OwnershipVerifier();
        verifier.Verify(model, signed.Credential).Verified.Should().BeTrue();

        // The paper's removal attack: one-shot global magnitude pruning of 10 % of the remaining weights.
        using var attacked = OwnershipAttacks.Reprune(model, signed.Mask, 0.1);
        verifier.Verify(attacked, signed.Credential).Verified.Should().BeTrue();
    }
}
