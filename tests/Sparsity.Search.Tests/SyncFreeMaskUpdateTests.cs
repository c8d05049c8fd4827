using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

/// <summary>
/// The search's per-step mask update for accelerators (<see cref="SyncFreeMaskUpdate"/>): the same selection as the
/// reference, and not one value read back to the host per step, counted on CPU through the same code path.
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class SyncFreeMaskUpdateTests
{
    [Theory]
    [InlineData(1000, 1, 0)]
    [InlineData(1000, 100, 1)]
    [InlineData(1000, 999, 2)]
    [InlineData(37, 18, 3)]
    public void TopK_equals_the_reference_selection_with_ties(int n, long k, int seed)
    {
        using var scope = NewDisposeScope();
        // Scores rounded to a few values: many ties, some of them at the boundary.
        var scores = randint(0, 12, [n], generator: new Generator((ulong)seed)).to(ScalarType.Float32);
        var reference = LayerSelection.ExactTopK(scores, k);
        var (mask, tie) = SyncFreeMaskUpdate.TopK(scores, k);

        mask.equal(reference.Mask).all().item<bool>().Should().BeTrue();
        mask.sum().item<long>().Should().Be(k);
        tie.item<bool>().Should().Be(reference.BoundaryTie);
    }

    [Fact]
    public void TopK_reports_no_tie_for_distinct_scores_and_handles_k_at_the_ends()
    {
        using var scope = NewDisposeScope();
        var scores = randperm(50, generator: new Generator(9)).to(ScalarType.Float32);
        var (mask, tie) = SyncFreeMaskUpdate.TopK(scores, 10);
        mask.equal(scores.ge(40)).all().item<bool>().Should().BeTrue();
        tie.item<bool>().Should().BeFalse();
        SyncFreeMaskUpdate.TopK(scores, 0).Mask.any().item<bool>().Should().BeFalse();
        SyncFreeMaskUpdate.TopK(scores, 50).Mask.all().item<bool>().Should().BeTrue();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_search_through_the_sync_free_update_reads_nothing_per_step_and_equals_the_default_search(bool noRestriction)
    {
        var model = Fixtures.Mlp(0);
        using var _m = model;
        using var train = Fixtures.Teacher(512, 1, [20]);
        Fixtures.Pretrain(model, train, 2);
        using var initial = Fixtures.Magnitude(model, 0.9);
        var options = new MaskSearchOptions
        {
            Epochs = 2, BatchSize = 32, EvaluateEveryEpoch = false,
            Restriction = noRestriction ? NoRestriction.Instance : new ShortRestriction(),
        };

        using var reference = new MaskSearcher(options).Search(model, initial, train);

        var readsPerStep = new List<long>();
        long last = 0;
        var searcher = new MaskSearcher(options)
        {
            StepObserver = (_, _) =>
            {
                readsPerStep.Add(ThresholdTracker.HostReadsSoFar - last);
                last = ThresholdTracker.HostReadsSoFar;
            },
        };
        SearchState.ForceSyncFreeUpdate = true;
        SearchResult syncFree;
        try
        {
            last = ThresholdTracker.HostReadsSoFar;
            syncFree = searcher.Search(model, initial, train);
        }
        finally
        {
            SearchState.ForceSyncFreeUpdate = false;
        }

        using (syncFree)
        {
            readsPerStep.Should().HaveCount(2 * 16);
            // The first step also holds the set-up; the first step of epoch 2 holds epoch 1's one read of its flip counters.
            readsPerStep.Skip(1).Select((r, i) => (Step: i + 1, Reads: r)).Where(s => s.Reads != 0).Should().Equal([(16, 1L)],
                "the per-step path reads nothing back; the flip counters are read once per epoch");
            syncFree.History.Select(e => (e.FlipsAccepted, e.FlipsRefused)).Should().Equal(reference.History.Select(e => (e.FlipsAccepted, e.FlipsRefused)));
            reference.History.Sum(e => e.FlipsAccepted).Should().BeGreaterThan(0, "the comparison needs masks that move");
            foreach (var name in reference.Masks.Names)
            {
                syncFree.Masks[name].equal(reference.Masks[name]).all().item<bool>().Should().BeTrue($"{name} must end identical");
            }
        }
    }
}
