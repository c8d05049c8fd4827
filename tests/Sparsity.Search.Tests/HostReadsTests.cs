using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

/// <summary>
/// Explicit host reads (tensor values copied back to the host, which stall a GPU stream) on the search's
/// per-step path, counted on CPU through the same code the device path runs (the tensor selector).
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class HostReadsTests
{
    [Fact]
    public void AnExactSelectionAndACountHitCostOneReadEach()
    {
        const long n = 10_000, k = 1_000;
        using var scores = randperm(n, generator: new Generator(3)).to(ScalarType.Float32);
        using var tracker = new ThresholdTracker(n, k);
        using var scope = NewDisposeScope();

        long before = ThresholdTracker.HostReadsSoFar;
        var first = tracker.Select(scores);
        (ThresholdTracker.HostReadsSoFar - before).Should().Be(1, "kthvalue, then the threshold and the tie flag read together");
        tracker.ExactSelections.Should().Be(1);
        tracker.ThresholdValue.Should().Be(n - k - 1);

        before = ThresholdTracker.HostReadsSoFar;
        var second = tracker.Select(scores);
        (ThresholdTracker.HostReadsSoFar - before).Should().Be(1, "the count of scores at or below the tracked threshold");
        tracker.CountHits.Should().Be(1);
        second.Mask.eq(first.Mask).all().item<bool>().Should().BeTrue();
        tracker.ThresholdValue.Should().Be(n - k - 1, "the host copy needs no further read");
    }

    [Fact]
    public void ABandHitWithoutTiesCostsThreeReads()
    {
        const long n = 10_000, k = 1_000;
        using var scores = randperm(n, generator: new Generator(4)).to(ScalarType.Float32);
        using var tracker = new ThresholdTracker(n, k);
        using var scope = NewDisposeScope();
        tracker.Restore(n - k - 1, 1.0); // threshold 8,999 (the p-th smallest of 0 … 9,999), band half-width 1
        // Push the (p+1)-th smallest (9,000) to 8,998.5: the new p-th smallest lies in the band (8,998, 8,999].
        using (no_grad())
        {
            scores.masked_fill_(scores.eq(n - k), (n - k - 1) - 0.5);
        }

        long before = ThresholdTracker.HostReadsSoFar;
        var top = tracker.Select(scores);
        tracker.BandHits.Should().Be(1);
        (ThresholdTracker.HostReadsSoFar - before).Should().Be(3, "the count, the count below the band, the threshold and its neighbour together");
        top.Mask.count_nonzero().item<long>().Should().Be(k);
        tracker.ThresholdValue.Should().Be(n - k - 1.5f);
    }

    [Fact]
    public void SetMaskAtReadsOnceToValidatePositions()
    {
        var model = Fixtures.Mlp(5);
        using var _m = model;
        var parameters = Fixtures.Parameters(model);
        using var initial = Fixtures.Magnitude(model, 0.7);
        using var masked = MaskedModel.Attach(model, initial.Mask, parameters);
        using var positions = tensor(new long[] { 0, 3, 7 });
        long before = ThresholdTracker.HostReadsSoFar;
        masked.SetMaskAt(parameters[0].Name, positions, keep: false);
        (ThresholdTracker.HostReadsSoFar - before).Should().Be(1);
        using var outside = tensor(new long[] { -1 });
        var act = () => masked.SetMaskAt(parameters[0].Name, outside, keep: true);
        act.Should().Throw<ArgumentException>().WithParameterName("positions");
    }

    [Fact]
    public void TheTensorSelectorsSearchStepReadsAtMostAFewValuesPerLayer()
    {
        var model = Fixtures.Mlp(0);
        using var _m = model;
        using var train = Fixtures.Teacher(512, 1, [20]);
        Fixtures.Pretrain(model, train, 2);
        using var initial = Fixtures.Magnitude(model, 0.9);
        var perStep = new List<(long Reads, long Band, long Exact)>();
        long last = 0, lastBand = 0, lastExact = 0;
        var searcher = new MaskSearcher(new MaskSearchOptions { Epochs = 2, BatchSize = 32, EvaluateEveryEpoch = false });
        int layers = 0;
        searcher.StepObserver = (_, state) =>
        {
            layers = state.Trackers.Count;
            long reads = ThresholdTracker.HostReadsSoFar;
            long band = state.Trackers.Values.Sum(t => t.BandHits), exact = state.Trackers.Values.Sum(t => t.ExactSelections);
            perStep.Add((reads - last, band - lastBand, exact - lastExact));
            (last, lastBand, lastExact) = (ThresholdTracker.HostReadsSoFar, band, exact);
        };
        SearchState.ForceTensorSelector = true;
        try
        {
            last = ThresholdTracker.HostReadsSoFar;
            using var result = searcher.Search(model, initial, train);
        }
        finally
        {
            SearchState.ForceTensorSelector = false;
        }

        perStep.Count.Should().BeGreaterThan(1);
        layers.Should().BeGreaterThan(0);
        perStep.RemoveAt(0); // the first step also holds the setup's reads (the initial selection)
        foreach (var (reads, band, exact) in perStep)
        {
            // Per layer: the count and two SetMaskAt validations (3); a band hit or a selection after failed widenings
            // adds at most 4 widening counts plus one read of the threshold pair or of the exact threshold and one tie count (6).
            reads.Should().BeLessThanOrEqualTo((3 * layers) + (6 * (band + exact)));
        }
    }
}
