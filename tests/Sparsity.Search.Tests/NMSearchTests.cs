using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

[Collection(SequentialCollection.Name)]
public sealed class NMSearchTests
{
    private static readonly MaskSearchOptions Quick = new() { Epochs = 2, BatchSize = 32, EvaluationBatchSize = 500 };

    private static (nn.Module<Tensor, Tensor> Model, TensorDataset Train) PretrainedMlp(long seed = 0)
    {
        var model = Fixtures.Mlp(seed);
        var train = Fixtures.Teacher(512, 1, [20]);
        Fixtures.Pretrain(model, train, 3);
        return (model, train);
    }

    /// <summary>Magnitude N:M initial mask over the searched weights.</summary>
    private static InitialMask NMMagnitude(nn.Module model, NMPattern pattern, bool keepIncompatibleDense = false)
    {
        var parameters = Fixtures.Parameters(model);
        var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
        return new InitialMask(scores, new NMAllocation(pattern, keepIncompatibleDense).Allocate(scores, pattern.Sparsity));
    }

    /// <summary>Independent route: per group of M in flat order, the N highest scores (ties by lower index).</summary>
    private static bool[] TopN(float[] scores, NMPattern pattern)
    {
        var keep = new bool[scores.Length];
        for (int g = 0; g < scores.Length; g += pattern.M)
        {
            foreach (var i in Enumerable.Range(g, pattern.M).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(pattern.N))
            {
                keep[i] = true;
            }
        }

        return keep;
    }

    private static long[] GroupCounts(Tensor mask, int m)
    {
        using var counts = mask.reshape(-1, m).sum(1, type: ScalarType.Int64).cpu();
        return counts.data<long>().ToArray();
    }

    [Theory]
    [InlineData("short", 2, 4)]
    [InlineData("none", 2, 4)]
    [InlineData("decaying", 2, 4)]
    [InlineData("decaying", 1, 4)]
    [InlineData("short", 4, 8)]
    public void EveryGroupKeepsExactlyNAfterEveryStep(string policy, int n, int m)
    {
        var pattern = new NMPattern(n, m);
        var (model, train) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = NMMagnitude(model, pattern, keepIncompatibleDense: m == 8); // fc1 [64, 20]: 8 does not divide 20
        IRestrictionPolicy restriction = policy switch
        {
            "none" => NoRestriction.Instance,
            "decaying" => new ShortRestriction(RestrictionSchedule.Decaying), // accepts fewer than all pairs: within-group pairs
            _ => new ShortRestriction(),
        };
        var searcher = new MaskSearcher(Quick with { Restriction = restriction, SemiStructured = pattern, Epochs = 3 });
        int steps = 0;
        searcher.StepObserver = (masked, _) =>
        {
            steps++;
            foreach (var name in masked.Names)
            {
                if (m == 8 && name == "fc1.weight")
                {
                    masked.Mask(name).all().item<bool>().Should().BeTrue("a layer kept whole stays whole");
                    continue;
                }

                GroupCounts(masked.Mask(name), m).Should().OnlyContain(c => c == n, $"every group of {name} keeps {n} of {m} after step {steps}");
            }
        };
        using var result = searcher.Search(model, initial, train);
        steps.Should().Be(3 * 16);
        foreach (var name in result.Masks.Names.Where(x => m != 8 || x != "fc1.weight"))
        {
            pattern.Violations(result.Masks[name]).Should().Be(0);
        }

        result.History.Sum(h => h.FlipsAccepted).Should().BeGreaterThan(0, "the search must change the mask");
        result.Masks.Equals(initial.Mask).Should().BeFalse();
    }

    [Fact]
    public void WithoutRestrictionTheMaskIsThePerGroupTopNOfTheScoresAfterEveryStep()
    {
        var pattern = NMPattern.TwoFour;
        var (model, train) = PretrainedMlp(3);
        using var _m = model;
        using var _t = train;
        using var initial = NMMagnitude(model, pattern);
        var searcher = new MaskSearcher(Quick with { Restriction = NoRestriction.Instance, SemiStructured = pattern });
        int checkedSteps = 0;
        searcher.StepObserver = (masked, state) =>
        {
            foreach (var name in masked.Names)
            {
                using var scoresCpu = state.Scores[name].cpu().flatten();
                using var maskCpu = masked.Mask(name).cpu().flatten();
                maskCpu.data<bool>().ToArray().Should().Equal(TopN(scoresCpu.data<float>().ToArray(), pattern), name);
            }

            checkedSteps++;
        };
        using var result = searcher.Search(model, initial, train);
        checkedSteps.Should().Be(2 * 16);
    }

    [Fact]
    public void ALayerKeptWholeStaysWholeAndConvRowsAreGroupedAlongTheFlattenedInput()
    {
        // conv [4, 1, 3, 3] has rows of 9 weights (4 does not divide 9): kept dense; fc1 [16, 64] is 2:4.
        var model = Fixtures.ConvBn(0);
        using var _m = model;
        using var train = Fixtures.Teacher(256, 2, [1, 6, 6]);
        Fixtures.Pretrain(model, train, 2);
        using var initial = NMMagnitude(model, NMPattern.TwoFour, keepIncompatibleDense: true);
        initial.Mask.KeptIn("conv.weight").Should().Be(36);
        var searcher = new MaskSearcher(Quick with { SemiStructured = NMPattern.TwoFour, Restriction = NoRestriction.Instance });
        searcher.StepObserver = (masked, _) =>
        {
            masked.Mask("conv.weight").all().item<bool>().Should().BeTrue();
            GroupCounts(masked.Mask("fc1.weight"), 4).Should().OnlyContain(c => c == 2);
        };
        using var result = searcher.Search(model, initial, train);
        result.Masks.KeptIn("conv.weight").Should().Be(36);
        NMPattern.TwoFour.Violations(result.Masks["fc1.weight"]).Should().Be(0);

        // Without keeping it whole, the conv layer is refused naming the initial mask.
        var act = () => NMMagnitude(model, NMPattern.TwoFour);
        act.Should().Throw<ArgumentException>().Which.Message.Should().Contain("conv.weight");
    }

    [Fact]
    public void AnInitialMaskThatBreaksThePatternIsRefusedNamingIt()
    {
        var (model, train) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.5); // global magnitude: 50 % overall, not 2:4
        var act = () => new MaskSearcher(Quick with { SemiStructured = NMPattern.TwoFour }).Search(model, initial, train);
        var e = act.Should().Throw<ArgumentException>().Which;
        e.ParamName.Should().Be("initial");
        e.Message.Should().Contain("2:4").And.Contain("fc1.weight");
    }

    [Fact]
    public void SemiStructuredCannotBeCombinedWithAConstraint()
    {
        var constraint = new MaskConstraint(
            [KeyValuePair.Create("fc1.weight", (IReadOnlyCollection<long>)[0L])], []);
        var act = () => new MaskSearcher(Quick with { SemiStructured = NMPattern.TwoFour, Constraint = constraint });
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be(nameof(MaskSearchOptions.SemiStructured));
        (Quick with { SemiStructured = NMPattern.TwoFour }).Fingerprint().Should().EndWith(";nm=2:4");
    }

    [Fact]
    public void ResumeContinuesAnNMSearchExactly()
    {
        var folder = Fixtures.TempFolder();
        try
        {
            var options = Quick with { SemiStructured = NMPattern.TwoFour, Epochs = 3, CheckpointFolder = folder };
            var (model, train) = PretrainedMlp();
            using var _m = model;
            using var _t = train;
            using var initial = NMMagnitude(model, NMPattern.TwoFour);
            var state = Fixtures.State(model);
            using var full = new MaskSearcher(options with { CheckpointFolder = null }).Search(model, initial, train);

            Fixtures.Load(model, state);
            using var cts = new CancellationTokenSource();
            var first = new MaskSearcher(options);
            first.StepObserver = (_, s) =>
            {
                if (s.EpochsDone == 1)
                {
                    cts.Cancel();
                }
            };
            var act = () => first.Search(model, initial, train, cancellationToken: cts.Token);
            act.Should().Throw<OperationCanceledException>();
            Fixtures.Load(model, state);
            using var resumed = new MaskSearcher(options).Resume(model, train);
            resumed.Masks.Equals(full.Masks).Should().BeTrue();
            ConstraintTests.Digest(resumed).Should().Be(ConstraintTests.Digest(full));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
