using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

public sealed class ThresholdTrackerTests
{
    /// <summary>The released code's <c>final_pop_up</c> with rate 1 (docs/algorithms.md#the-short-restriction), written with a full sort.</summary>
    private static bool[] OfficialPopUp(float[] s, bool[] mask, long pruned)
    {
        var sorted = s.OrderBy(v => v).ToArray();
        var t = sorted[pruned - 1];
        var revive = Enumerable.Range(0, s.Length).Where(i => !mask[i] && s[i] > t).ToList();
        var drop = Enumerable.Range(0, s.Length).Where(i => mask[i] && s[i] <= t).ToList();
        var next = (bool[])mask.Clone();
        if (revive.Count > 0 && revive.Count == drop.Count)
        {
            foreach (var i in revive)
            {
                next[i] = true;
            }

            foreach (var i in drop)
            {
                next[i] = false;
            }
        }

        return next;
    }

    [Theory]
    [InlineData(1000, 100, 1)]
    [InlineData(5000, 4900, 2)]
    [InlineData(3000, 1500, 3)]
    [InlineData(200, 1, 4)]
    [InlineData(200, 199, 5)]
    [InlineData(1003, 97, 6)]
    [InlineData(37, 5, 7)]
    public void IncrementalSelectionEqualsExactTopKAndTheOfficialRuleOverManySteps(int n, int k, int seed)
    {
        var rng = new Random(seed);
        var g = new Generator((ulong)seed);
        using var scores = randn(n, generator: g);
        using var tracker = new ThresholdTracker(n, k);
        using var cpu = new CpuThresholdTracker(n, k);
        bool[] mask;
        using (var scope = NewDisposeScope())
        {
            mask = LayerSelection.ExactTopK(scores, k).Mask.data<bool>().ToArray();
        }

        int ties = 0;
        for (int step = 0; step < 400; step++)
        {
            using var scope = NewDisposeScope();
            // Perturb: mostly small moves (the normal regime), sometimes large jumps, quantisation (ties), or copies of the threshold.
            int kind = rng.Next(10);
            double scale = kind switch { 0 => 1.0, 1 => 0.1, _ => 1e-3 * rng.NextDouble() };
            scores.add_(randn(n, generator: g).mul(scale));
            if (kind == 2)
            {
                scores.mul_(20).round_().div_(20); // many exact ties
            }
            else if (kind == 3 && tracker.Threshold is { } tau)
            {
                var idx = randint(0, n, [5], generator: g);
                scores.index_fill_(0, idx, tau.item<float>());
            }

            var exact = LayerSelection.ExactTopK(scores, k);
            var incremental = tracker.Select(scores);
            incremental.Mask.data<bool>().ToArray().Should().Equal(exact.Mask.data<bool>().ToArray(), $"step {step}");
            incremental.BoundaryTie.Should().Be(exact.BoundaryTie, $"step {step}");
            incremental.Mask.count_nonzero().item<long>().Should().Be(k);
            ties += exact.BoundaryTie ? 1 : 0;

            // Both selectors propose exactly the swaps from the current mask to the exact top-k.
            var top = incremental.Mask.data<bool>().ToArray();
            using var maskTensor = tensor(mask);
            foreach (var selector in new ILayerSelector[] { tracker, cpu })
            {
                if (selector == tracker)
                {
                    continue; // Select already advanced the tensor tracker this step; its Propose is Select + a diff
                }

                var proposal = selector.Propose(scores, maskTensor);
                proposal.BoundaryTie.Should().Be(exact.BoundaryTie, $"step {step}");
                var applied = (bool[])mask.Clone();
                foreach (var i in proposal.Revive.data<long>().ToArray())
                {
                    applied[i].Should().BeFalse();
                    applied[i] = true;
                }

                foreach (var i in proposal.Drop.data<long>().ToArray())
                {
                    applied[i].Should().BeTrue();
                    applied[i] = false;
                }

                applied.Should().Equal(top, $"step {step}");
            }

            var tensorProposal = new ThresholdTracker(n, k).Propose(scores, maskTensor);
            tensorProposal.Pairs.Should().Be(top.Zip(mask).Count(z => z.First != z.Second) / 2);

            // The short restriction (official schedule) applied to the proposal equals the official pop-up.
            var s = scores.data<float>().ToArray();
            var official = OfficialPopUp(s, mask, n - k);
            long pairs = top.Zip(mask).Count(z => z.First != z.Second) / 2;
            long accepted = new ShortRestriction().AcceptedPairs(new LayerProposal("w", n, k, pairs, incremental.BoundaryTie, 0, 5));
            var ours = accepted == pairs && pairs > 0 ? top : mask;
            ours.Should().Equal(official, $"step {step}");
            ours.Count(b => b).Should().Be(k);
            mask = ours;
        }

        ties.Should().BeGreaterThan(0, "the test must exercise the tie guard");
        (tracker.CountHits + tracker.BandHits).Should().BeGreaterThan(tracker.ExactSelections, "most steps must avoid a full selection");
        (cpu.CountHits + cpu.BandHits).Should().BeGreaterThan(cpu.ExactSelections, "most steps must avoid a full selection");
    }

    [Fact]
    public void ExactTopKBreaksTiesByLowestIndexAndReportsTheTie()
    {
        using var scope = NewDisposeScope();
        var s = tensor(new[] { 0.5f, 1f, 0.5f, 0.2f, 0.5f });
        var top = LayerSelection.ExactTopK(s, 2);
        top.Mask.data<bool>().ToArray().Should().Equal(true, true, false, false, false);
        top.BoundaryTie.Should().BeTrue();
        var clean = LayerSelection.ExactTopK(s, 4);
        clean.BoundaryTie.Should().BeFalse();
        clean.Mask.data<bool>().ToArray().Should().Equal(true, true, true, false, true);
    }
}
