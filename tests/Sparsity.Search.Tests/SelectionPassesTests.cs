namespace Sparsity.Search.Tests;

/// <summary>The selection's passes against hand-worked answers, over lengths that use the 8-wide blocks and the scalar tail.</summary>
public sealed class SelectionPassesTests
{
    // 19 scores: two blocks of 8 and a tail of 3; the value 2 occurs at 1, 2, 6, 9, 13 and 17.
    private static readonly float[] Scores = [1, 2, 2, 3, 0.5f, 4, 2, 1, 5, 2, 0, 7, 1, 2, 3, float.NaN, 1, 2, 6];

    [Fact]
    public void CountsAtMostAndAboveLeaveNaNOut()
    {
        SelectionPasses.Count(Scores, 2f, above: false).Should().Be(12); // 1, 2, 2, 0.5, 2, 1, 2, 0, 1, 2, 1, 2
        SelectionPasses.Count(Scores, 2f, above: true).Should().Be(6);   // 3, 4, 5, 7, 3, 6
    }

    [Fact]
    public void GatherCountsBelowTheBandAndCopiesItInIndexOrder()
    {
        var band = new float[Scores.Length];
        var (below, m) = SelectionPasses.Gather(Scores, 1f, 3f, band);
        below.Should().Be(6); // 1, 0.5, 1, 0, 1, 1
        band.Take(m).Should().Equal(2, 2, 3, 2, 2, 2, 3, 2);
    }

    [Fact]
    public void TiesAtTheThresholdAreKeptFromTheLowestIndexWhileTheBudgetLasts()
    {
        var mask = new byte[Scores.Length];
        mask[0] = 1;  // a kept score below the threshold: dropped
        mask[11] = 1; // a kept score above it: stays
        mask[13] = 1; // the fourth 2: beyond the budget, dropped
        var (revive, drop) = (new List<long>(), new List<long>());
        SelectionPasses.DifferencesWithTies(Scores, mask, 2f, kept: 6 + 3, revive, drop); // six above 2, three of the 2s

        revive.Should().Equal(1, 2, 3, 5, 6, 8, 14, 18); // the first three 2s (1, 2, 6) and every score above 2 but 7
        drop.Should().Equal(0, 13);
    }

    [Fact]
    public void DifferencesListWhereTheScoresAboveTheThresholdDifferFromTheMask()
    {
        var mask = new byte[Scores.Length];
        mask[3] = 1;
        mask[4] = 1;
        var (revive, drop) = (new List<long>(), new List<long>());
        SelectionPasses.Differences(Scores, mask, 2f, revive, drop);
        revive.Should().Equal(5, 8, 11, 14, 18);
        drop.Should().Equal(4);
    }
}
