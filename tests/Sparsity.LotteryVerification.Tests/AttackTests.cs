using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification.Tests;

[Collection(SequentialCollection.Name)]
public sealed class AttackTests
{
    private static Dictionary<string, float[]> Weights(nn.Module model, MaskSet masks) =>
        masks.Names.ToDictionary(n => n, n => TestMasks.FlatFloat(model.get_parameter(n)!));

    [Fact]
    public void MagnitudeRepruningRemovesExactlyTheSmallestRemainingWeights()
    {
        var (model, ticket) = TestMasks.TinyTicket();
        using var _ = ticket;
        var before = Weights(model, ticket);
        using var attacked = OwnershipAttacks.Reprune(model, ticket, 0.1, RepruneMethod.Magnitude);
        var after = Weights(model, ticket);

        long expectedRemoved = (long)Math.Floor(0.1 * ticket.KeptCount);
        var flips = ticket.Flips(attacked);
        flips.TurnedOn.Should().Be(0);
        flips.TurnedOff.Should().Be(expectedRemoved);

        var removed = new List<float>();
        var survived = new List<float>();
        foreach (var name in ticket.Names)
        {
            var was = TestMasks.Flat(ticket[name]);
            var now = TestMasks.Flat(attacked[name]);
            for (int i = 0; i < was.Length; i++)
            {
                if (was[i] && !now[i])
                {
                    removed.Add(Math.Abs(before[name][i]));
                    after[name][i].Should().Be(0f);
                }
                else
                {
                    after[name][i].Should().Be(before[name][i]); // nothing else changes
                    if (now[i])
                    {
                        survived.Add(Math.Abs(before[name][i]));
                    }
                }
            }
        }

        removed.Max().Should().BeLessThanOrEqualTo(survived.Min());
    }

    [Fact]
    public void RandomRepruningRemovesTheRightCountDeterministically()
    {
        var (model, ticket) = TestMasks.TinyTicket();
        using var _ = ticket;
        var (model2, ticket2) = TestMasks.TinyTicket();
        using var __ = ticket2;
        using var a = OwnershipAttacks.Reprune(model, ticket, 0.2, RepruneMethod.Random, seed: 4);
        using var b = OwnershipAttacks.Reprune(model2, ticket2, 0.2, RepruneMethod.Random, seed: 4);
        a.Equals(b).Should().BeTrue();
        var flips = ticket.Flips(a);
        flips.TurnedOn.Should().Be(0);
        flips.TurnedOff.Should().Be((long)Math.Floor(0.2 * ticket.KeptCount));
    }

    [Fact]
    public void AddOnRevivesTheRightShareOfPrunedWeightsAndNothingElse()
    {
        var (model, ticket) = TestMasks.TinyTicket();
        using var _ = ticket;
        var before = Weights(model, ticket);
        long pruned = ticket.TotalCount - ticket.KeptCount;
        using var attacked = OwnershipAttacks.AddOn(model, ticket, 0.01, noiseStd: 0.1, seed: 2);
        var after = Weights(model, ticket);
        var flips = ticket.Flips(attacked);
        flips.TurnedOff.Should().Be(0);
        flips.TurnedOn.Should().Be((long)Math.Floor(0.01 * pruned));
        foreach (var name in ticket.Names)
        {
            var was = TestMasks.Flat(ticket[name]);
            var now = TestMasks.Flat(attacked[name]);
            for (int i = 0; i < was.Length; i++)
            {
                if (!was[i] && now[i])
                {
                    after[name][i].Should().NotBe(0f);
                    Math.Abs(after[name][i]).Should().BeLessThan(1f); // 10 σ
                }
                else
                {
                    after[name][i].Should().Be(before[name][i]);
                }
            }
        }
    }

    [Fact]
    public void FineTuningWithAFixedMaskChangesOnlyKeptWeights()
    {
        var (model, ticket) = TestMasks.TinyTicket();
        using var _ = ticket;
        var before = Weights(model, ticket);
        OwnershipAttacks.FineTuneWithFixedMask(model, ticket, (masked, ct) =>
        {
            using var noGrad = no_grad();
            foreach (var name in masked.Names)
            {
                masked.Parameter(name).Weight.add_(1.0f); // a "training step" that would revive pruned weights
            }
        }, cancellationToken: TestContext.Current.CancellationToken);
        var after = Weights(model, ticket);
        using var implied = SignatureReader.MasksFromWeights(model, ticket.Names);
        foreach (var name in ticket.Names)
        {
            var kept = TestMasks.Flat(ticket[name]);
            for (int i = 0; i < kept.Length; i++)
            {
                after[name][i].Should().Be(kept[i] ? before[name][i] + 1f : 0f);
            }
        }

        ticket.Flips(implied).Total.Should().Be(0);
    }

    [Fact]
    public void OverwriteWritesTheForgedCodeInTheOwnersRegionAndKeepsCounts()
    {
        var (model, ticket) = TestMasks.TinyTicket();
        using var _ = ticket;
        using var owner = new QrSignatureScheme().Embed(ticket);
        owner.Mask.ApplyTo(model);
        var before = Weights(model, ticket);
        var cred = owner.Credential;
        var forged = new QrSignatureScheme(new QrSignatureOptions { Message = "signature2", Placement = (cred.Layer, cred.Row!.Value, cred.Column!.Value) });
        using var attacked = OwnershipAttacks.Overwrite(model, owner.Mask, forged, seed: 9);
        var after = Weights(model, ticket);

        attacked.Credential.Layer.Should().Be(cred.Layer);
        SignatureReader.Read(attacked.Mask, attacked.Credential).Should().Equal(attacked.Credential.Bits.Select(b => b.Expected));
        foreach (var name in ticket.Names)
        {
            attacked.Mask.KeptIn(name).Should().Be(owner.Mask.KeptIn(name));
            if (name != cred.Layer)
            {
                TestMasks.Same(attacked.Mask[name], owner.Mask[name]).Should().BeTrue();
                after[name].Should().Equal(before[name]);
            }
        }

        var was = TestMasks.Flat(owner.Mask[cred.Layer]);
        var now = TestMasks.Flat(attacked.Mask[cred.Layer]);
        for (int i = 0; i < was.Length; i++)
        {
            if (was[i] && now[i])
            {
                after[cred.Layer][i].Should().Be(before[cred.Layer][i]);
            }
            else if (!now[i])
            {
                after[cred.Layer][i].Should().Be(0f);
            }
        }

        var verdict = new OwnershipVerifier().Verify(model, cred);
        verdict.BitErrorRate.Should().BeGreaterThan(0.05);
    }

    [Fact]
    public void OwnerClaimSurvivesTenPercentRandomRepruning()
    {
        var (model, ticket) = TestMasks.TinyTicket();
        using var _ = ticket;
        using var signed = new KeyedSignatureScheme(OwnerKey.FromPassphrase("owner"), new KeyedSignatureOptions { Layer = "conv2.weight" }).Embed(ticket);
        using (var noGrad = no_grad())
        {
            // Stand-in for retraining: every kept weight non-zero (newly kept ones were 0 after the ticket's pruning).
            foreach (var name in signed.Mask.Names)
            {
                var w = model.get_parameter(name)!;
                using var filled = where(w.eq(0), full_like(w, 0.05f), w).mul(signed.Mask[name]);
                w.copy_(filled);
            }
        }

        using var attacked = OwnershipAttacks.Reprune(model, signed.Mask, 0.1, RepruneMethod.Random, seed: 1);
        var verdict = new OwnershipVerifier().Verify(model, signed.Credential);
        verdict.BitErrorRate.Should().BeLessThan(0.2);
        verdict.Verified.Should().BeTrue();
    }

    [Fact]
    public void MaskModelMismatchIsRejected()
    {
        var (model, ticket) = TestMasks.TinyTicket();
        using var _ = ticket;
        using var wrong = TestMasks.Set(("conv2.weight", TestMasks.Random([32, 16, 3, 3], 0.2, 1)));
        var a = () => OwnershipAttacks.Reprune(model, wrong, 0.1);
        a.Should().Throw<ArgumentException>().WithMessage("*mask 'conv2.weight' has shape [32, 16, 3, 3] but the weight has [32, 32, 3, 3]*");
        using var unknown = TestMasks.Set(("conv9.weight", TestMasks.Random([3, 3], 0.2, 1)));
        var b = () => OwnershipAttacks.AddOn(model, unknown, 0.1);
        b.Should().Throw<ArgumentException>().WithMessage("*no prunable weight 'conv9.weight'*");
        var c = () => OwnershipAttacks.Reprune(model, ticket, 1.0);
        c.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fraction");
        var d = () => new OwnershipVerifier().Verify(model, new KeyedSignatureScheme(OwnerKey.FromPassphrase("o")).Plan(wrong));
        d.Should().Throw<ArgumentException>().WithMessage("*shape*");
    }

    [Fact]
    public void MasksFromWeightsRejectsAnUnknownParameter()
    {
        using var model = TorchSharp.torch.nn.Sequential(("fc", TorchSharp.torch.nn.Linear(3, 2)));
        var act = () => SignatureReader.MasksFromWeights(model, ["nope.weight"]);
        act.Should().Throw<ArgumentException>().WithMessage("*no prunable weight 'nope.weight'*");
        using var masks = SignatureReader.MasksFromWeights(model, ["fc.weight"]);
        masks.Names.Should().Equal("fc.weight");
    }
}
