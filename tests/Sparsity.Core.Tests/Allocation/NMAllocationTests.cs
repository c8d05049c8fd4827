using static TorchSharp.torch;

namespace Sparsity.Tests.Allocation;

public sealed class NMAllocationTests
{
    /// <summary>Independent route: per group of M (flat row-major order) sort by score descending, then index; keep the first N.</summary>
    private static bool[] Expected(float[] scores, int n, int m)
    {
        var keep = new bool[scores.Length];
        for (int g = 0; g < scores.Length; g += m)
        {
            foreach (var i in Enumerable.Range(g, m).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(n))
            {
                keep[i] = true;
            }
        }

        return keep;
    }

    [Fact]
    public void HandComputedTwoFourOfALinearWeight()
    {
        // Linear [2, 8]: groups are (row 0: 0–3, 4–7), (row 1: 8–11, 12–15).
        float[] s =
        [
            0.1f, -0.9f, 0.5f, 0.3f,   2f, 1f, 3f, 0f,
            -1f, -2f, -3f, -4f,        7f, 7f, 7f, 7f,
        ];
        using var scores = TestModels.Scores(("fc.weight", s, [2, 8]));
        using var masks = new NMAllocation().Allocate(scores, 0.5);
        TestModels.Bits(masks["fc.weight"]).Should().Equal(
            false, false, true, true,    true, false, true, false,
            true, true, false, false,    true, true, false, false); // all tied: the two lowest indices
        masks.KeptIn("fc.weight").Should().Be(8);
    }

    [Fact]
    public void Conv2dGroupsRunAlongTheFlattenedInputOfEachOutputRow()
    {
        // Conv2d [2, 2, 1, 2]: rows of in·kh·kw = 4, so each output channel is one group spanning both input channels.
        float[] s = [4f, 1f, 3f, 2f, /* row 1 */ 0f, 5f, 5f, 1f];
        using var scores = TestModels.Scores(("conv.weight", s, [2, 2, 1, 2]));
        using var masks = new NMAllocation(NMPattern.OneFour).Allocate(scores, 0.75);
        masks["conv.weight"].shape.Should().Equal(2, 2, 1, 2);
        TestModels.Bits(masks["conv.weight"]).Should().Equal(true, false, false, false, false, true, false, false);
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(1, 4)]
    [InlineData(4, 8)]
    [InlineData(3, 8)]
    public void EveryGroupKeepsExactlyNTheTopScoresWithTiesByIndex(int n, int m)
    {
        var pattern = new NMPattern(n, m);
        var random = new Random(n * 100 + m);
        // Few distinct values: most groups contain ties, many at the N-th/(N+1)-th boundary; also −∞ (ScoreSet rejects NaN and +∞).
        float[] values = [-3f, 0f, 0f, 1f, 2f, float.NegativeInfinity, float.MaxValue];
        var a = Enumerable.Range(0, 24 * 16).Select(_ => values[random.Next(values.Length)]).ToArray();
        var b = Enumerable.Range(0, 8 * 4 * 2 * 2).Select(_ => values[random.Next(3)]).ToArray();
        using var scores = TestModels.Scores(("fc.weight", a, [24, 16]), ("conv.weight", b, [8, 4, 2, 2]));
        using var masks = new NMAllocation(pattern).Allocate(scores, pattern.Sparsity);
        TestModels.Bits(masks["fc.weight"]).Should().Equal(Expected(a, n, m));
        TestModels.Bits(masks["conv.weight"]).Should().Equal(Expected(b, n, m));
        pattern.Violations(masks["fc.weight"]).Should().Be(0);
        pattern.Violations(masks["conv.weight"]).Should().Be(0);
        masks.KeptCount.Should().Be((a.Length + b.Length) / m * n);
        var counts = new NMAllocation(pattern).KeptCounts(scores, 0.9);
        counts["fc.weight"].Should().Be(a.Length / m * n);
        counts["conv.weight"].Should().Be(b.Length / m * n);
    }

    [Fact]
    public void TheSparsityArgumentIsValidatedButThePatternFixesTheCounts()
    {
        using var scores = TestModels.Scores(("fc.weight", [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], [2, 4]));
        using var low = new NMAllocation().Allocate(scores, 0.1);
        using var high = new NMAllocation().Allocate(scores, 0.9);
        low.Equals(high).Should().BeTrue();
        low.Sparsity.Should().Be(0.5);
        var act = () => new NMAllocation().Allocate(scores, 1.0);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("sparsity");
    }

    [Fact]
    public void ALayerWhoseRowsMDoesNotDivideIsRefusedNamingItOrKeptDenseOnRequest()
    {
        // fc2 has rows of 6 weights: 4 does not divide 6.
        using var scores = TestModels.Scores(
            ("fc1.weight", Enumerable.Range(0, 8).Select(i => (float)i).ToArray(), [2, 4]),
            ("fc2.weight", Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), [2, 6]));
        var act = () => new NMAllocation().Allocate(scores, 0.5);
        var e = act.Should().Throw<ArgumentException>().Which;
        e.ParamName.Should().Be("scores");
        e.Message.Should().Contain("fc2.weight").And.Contain("rows of 6");
        new NMAllocation().Invoking(a => a.KeptCounts(scores, 0.5)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("scores");

        using var masks = new NMAllocation(keepIncompatibleLayersDense: true).Allocate(scores, 0.5);
        masks.KeptIn("fc2.weight").Should().Be(12);
        masks.KeptIn("fc1.weight").Should().Be(4);
    }

    [Theory]
    [InlineData(4, 4, "n")]
    [InlineData(5, 4, "n")]
    [InlineData(0, 4, "n")]
    [InlineData(-1, 4, "n")]
    [InlineData(1, 1, "m")]
    [InlineData(1, 65, "m")]
    public void BadPatternsAreRefusedNamingTheArgument(int n, int m, string name)
    {
        var act = () => new NMPattern(n, m);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    [Fact]
    public void PatternsParseAndPrintAsNColonM()
    {
        NMPattern.Parse("2:4").Should().Be(NMPattern.TwoFour);
        NMPattern.Parse("4:8").Should().Be(NMPattern.FourEight);
        NMPattern.OneFour.ToString().Should().Be("1:4");
        NMPattern.OneFour.Sparsity.Should().Be(0.75);
        ((Action)(() => NMPattern.Parse("2/4"))).Should().Throw<FormatException>();
        ((Action)(() => NMPattern.Parse("4:4"))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("n");
    }

    [Fact]
    public void ViolationsCountsTheGroupsThatDoNotKeepExactlyN()
    {
        using var mask = tensor(new[] { true, true, false, false, true, true, true, false, false, false, false, false }).reshape(1, 12);
        NMPattern.TwoFour.Violations(mask).Should().Be(2);
        using var bad = ones(3, 6, ScalarType.Bool);
        var act = () => NMPattern.TwoFour.Violations(bad);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("mask");
    }
}
