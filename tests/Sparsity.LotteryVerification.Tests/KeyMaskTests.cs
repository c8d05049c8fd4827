using static TorchSharp.torch;

namespace Sparsity.LotteryVerification.Tests;

[Collection(SequentialCollection.Name)]
public sealed class KeyMaskTests
{
    [Fact]
    public void SplitTakesTheTopScoresAndPartitionsTheTicket()
    {
        using var ticket = TestMasks.Set(("a", TestMasks.Random([4, 5], 0.5, 1)), ("b", TestMasks.Random([3, 6], 0.5, 2)));
        using var scores = new ScoreSet([
            KeyValuePair.Create("a", arange(20, ScalarType.Float32).reshape(4, 5)),
            KeyValuePair.Create("b", arange(18, ScalarType.Float32).reshape(3, 6).mul(2))]);
        using var split = KeyMaskSplitter.Split(ticket, scores, 0.25);
        long expected = (long)Math.Round(0.25 * ticket.KeptCount);
        split.Key.KeptCount.Should().Be(expected);
        split.Locked.KeptCount.Should().Be(ticket.KeptCount - expected);
        foreach (var name in ticket.Names)
        {
            var t = TestMasks.Flat(ticket[name]);
            var k = TestMasks.Flat(split.Key[name]);
            var l = TestMasks.Flat(split.Locked[name]);
            for (int i = 0; i < t.Length; i++)
            {
                (k[i] && l[i]).Should().BeFalse();
                (k[i] || l[i]).Should().Be(t[i]);
            }
        }

        // Highest scores are in "b" (2·index); the key is the top `expected` kept positions of b (and a if needed).
        var kept = new List<(double, bool)>();
        foreach (var (name, factor) in new[] { ("a", 1.0), ("b", 2.0) })
        {
            var t = TestMasks.Flat(ticket[name]);
            var k = TestMasks.Flat(split.Key[name]);
            for (int i = 0; i < t.Length; i++)
            {
                if (t[i])
                {
                    kept.Add((i * factor, k[i]));
                }
            }
        }

        double minKey = kept.Where(x => x.Item2).Min(x => x.Item1);
        double maxLocked = kept.Where(x => !x.Item2).Max(x => x.Item1);
        minKey.Should().BeGreaterThanOrEqualTo(maxLocked);
        split.RelativeKeyDensity.Should().BeApproximately((double)expected / ticket.KeptCount, 1e-12);
    }

    [Fact]
    public void ModelScoresSplitWithMagnitudeAndPathShare()
    {
        var (model, ticket) = TestMasks.TinyTicket();
        using var _ = ticket;
        using var convs = TestMasks.Set(("conv1.weight", ticket["conv1.weight"].clone()), ("conv2.weight", ticket["conv2.weight"].clone()));
        foreach (var score in new[] { KeyMaskScore.Magnitude, KeyMaskScore.PathShare })
        {
            using var split = KeyMaskSplitter.Split(model, convs, 0.05, score);
            split.Key.KeptCount.Should().Be((long)Math.Round(0.05 * convs.KeptCount));
            (split.Key.KeptCount + split.Locked.KeptCount).Should().Be(convs.KeptCount);
        }
    }

    [Fact]
    public void BadKeyFractionIsRejected()
    {
        using var ticket = TestMasks.Set(("a", TestMasks.Random([4, 5], 0.5, 1)));
        using var scores = new ScoreSet([KeyValuePair.Create("a", zeros(4, 5))]);
        var act = () => KeyMaskSplitter.Split(ticket, scores, 1.0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("keyFraction");
        using var wrong = new ScoreSet([KeyValuePair.Create("a", zeros(5, 4))]);
        var act2 = () => KeyMaskSplitter.Split(ticket, wrong, 0.1);
        act2.Should().Throw<ArgumentException>().WithParameterName("scores");
    }

    [Fact]
    public void Fake1ForgesARandomKeyOfTheOwnersDensityInsideTheTicket()
    {
        using var ticket = TestMasks.Set(("a", TestMasks.Random([40, 50], 0.3, 3)), ("b", TestMasks.Random([30, 60], 0.2, 4)));
        using var forged = OwnershipAttacks.ForgedKeyMask(ticket, 0.05, seed: 1);
        using var again = OwnershipAttacks.ForgedKeyMask(ticket, 0.05, seed: 1);
        using var other = OwnershipAttacks.ForgedKeyMask(ticket, 0.05, seed: 2);
        long expected = (long)Math.Round(0.05 * ticket.KeptCount);
        forged.Key.KeptCount.Should().Be(expected);
        forged.Locked.KeptCount.Should().Be(ticket.KeptCount - expected);
        int shared = 0, otherShared = 0;
        foreach (var name in ticket.Names)
        {
            var t = TestMasks.Flat(ticket[name]);
            var k = TestMasks.Flat(forged.Key[name]);
            var l = TestMasks.Flat(forged.Locked[name]);
            var k2 = TestMasks.Flat(again.Key[name]);
            var k3 = TestMasks.Flat(other.Key[name]);
            for (int i = 0; i < t.Length; i++)
            {
                (k[i] && l[i]).Should().BeFalse();
                (k[i] || l[i]).Should().Be(t[i], "key and locked partition the ticket");
                k2[i].Should().Be(k[i], "the same seed forges the same key");
                shared += k[i] && k3[i] ? 1 : 0;
                otherShared += k[i] ? 1 : 0;
            }
        }

        // Another seed draws another key: two random 5 % subsets share about 5 % of their weights, far from all of them.
        shared.Should().BeLessThan(otherShared / 4);

        // Spread over the layers in proportion to their kept counts (uniform draw), not concentrated in one layer.
        double shareA = (double)forged.Key.KeptIn("a") / expected;
        shareA.Should().BeApproximately((double)ticket.KeptIn("a") / ticket.KeptCount, 0.1);
        var act = () => OwnershipAttacks.ForgedKeyMask(ticket, 1.0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("keyFraction");
    }
}
