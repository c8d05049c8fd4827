using System.Security.Cryptography;
using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

[Collection(SequentialCollection.Name)]
public sealed class ConstraintTests
{
    private static readonly MaskSearchOptions Quick = new() { Epochs = 2, BatchSize = 32, EvaluationBatchSize = 500 };

    private static (nn.Module<Tensor, Tensor> Model, TensorDataset Train) PretrainedMlp(long seed = 0)
    {
        var model = Fixtures.Mlp(seed);
        var train = Fixtures.Teacher(512, 1, [20]);
        Fixtures.Pretrain(model, train, 3);
        return (model, train);
    }

    internal static string Digest(SearchResult result)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in result.Masks.Names)
        {
            using var m = result.Masks[name].cpu().to(ScalarType.Byte).contiguous();
            sha.AppendData(m.bytes);
            using var s = result.Scores[name].cpu().contiguous();
            sha.AppendData(s.bytes);
        }

        foreach (var h in result.History)
        {
            sha.AppendData(BitConverter.GetBytes(h.TrainLoss));
            sha.AppendData(BitConverter.GetBytes(h.FlipsAccepted));
            sha.AppendData(BitConverter.GetBytes(h.FlipsRefused));
        }

        return Convert.ToHexString(sha.GetHashAndReset());
    }

    private static MaskConstraint Make(Dictionary<string, long[]> on, Dictionary<string, long[]> off) => new(
        on.Select(e => KeyValuePair.Create(e.Key, (IReadOnlyCollection<long>)e.Value)),
        off.Select(e => KeyValuePair.Create(e.Key, (IReadOnlyCollection<long>)e.Value)));

    /// <summary>
    /// Per searched layer: 8 forced-on positions drawn among the initially pruned ones and 8 forced-off among the
    /// initially kept ones (so the initial mask violates it), plus 8 of each drawn anywhere else.
    /// </summary>
    private static MaskConstraint RandomConstraint(MaskSet initial, int seed)
    {
        var random = new Random(seed);
        var on = new Dictionary<string, long[]>();
        var off = new Dictionary<string, long[]>();
        foreach (var name in initial.Names)
        {
            using var cpu = initial[name].cpu().flatten();
            var values = cpu.data<bool>().ToArray();
            var order = Enumerable.Range(0, values.Length).OrderBy(_ => random.Next()).ToList();
            var forcedOn = order.Where(i => !values[i]).Take(8).ToList();
            var forcedOff = order.Where(i => values[i]).Take(8).ToList();
            var rest = order.Except(forcedOn).Except(forcedOff).ToList();
            forcedOn.AddRange(rest.Take(8));
            forcedOff.AddRange(rest.Skip(8).Take(8));
            on[name] = forcedOn.Select(i => (long)i).ToArray();
            off[name] = forcedOff.Select(i => (long)i).ToArray();
        }

        return Make(on, off);
    }

    [Theory]
    [InlineData("short", false)]
    [InlineData("none", false)]
    [InlineData("decaying", true)]
    public void EveryStepsMaskSatisfiesTheConstraintAndKeepsTheCounts(string policy, bool tensorSelector)
    {
        var (model, train) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.9);
        var constraint = RandomConstraint(initial.Mask, 1);
        constraint.IsSatisfiedBy(initial.Mask).Should().BeFalse("the test constraint must change the initial mask");
        IRestrictionPolicy restriction = policy switch
        {
            "none" => NoRestriction.Instance,
            "decaying" => new ShortRestriction(RestrictionSchedule.Decaying),
            _ => new ShortRestriction(),
        };
        var searcher = new MaskSearcher(Quick with { Restriction = restriction, Constraint = constraint, Epochs = 3 });
        int steps = 0;
        searcher.StepObserver = (masked, _) =>
        {
            steps++;
            using var now = masked.Snapshot();
            constraint.IsSatisfiedBy(now).Should().BeTrue();
            now.Layers.Select(l => l.Kept).Should().Equal(initial.Mask.Layers.Select(l => l.Kept));
        };
        SearchState.ForceTensorSelector = tensorSelector;
        SearchResult result;
        try
        {
            result = searcher.Search(model, initial, train);
        }
        finally
        {
            SearchState.ForceTensorSelector = false;
        }

        using var _r = result;
        steps.Should().Be(3 * 16);
        constraint.IsSatisfiedBy(result.Masks).Should().BeTrue();
        result.Masks.Layers.Select(l => l.Kept).Should().Equal(initial.Mask.Layers.Select(l => l.Kept));
        result.History.Sum(h => h.FlipsAccepted).Should().BeGreaterThan(0, "the search must still change the mask");

        // The search starts from the initial mask made to satisfy the constraint (rebalanced by the initial scores).
        using var expectedStart = constraint.Apply(initial.Mask, priority: initial.Scores);
        result.InitialMasks.Equals(expectedStart).Should().BeTrue();
    }

    [Fact]
    public void FreePositionsAreTheTopKOfTheFreeScoresAfterEveryStep()
    {
        var (model, train) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.9);
        var constraint = RandomConstraint(initial.Mask, 2);
        var searcher = new MaskSearcher(Quick with { Restriction = NoRestriction.Instance, Constraint = constraint });
        int checkedSteps = 0;
        searcher.StepObserver = (masked, state) =>
        {
            foreach (var name in masked.Names)
            {
                using var scoresCpu = state.Scores[name].cpu().flatten();
                using var maskCpu = masked.Mask(name).cpu().flatten();
                var scores = scoresCpu.data<float>().ToArray();
                var mask = maskCpu.data<bool>().ToArray();
                var on = constraint.ForcedOn(name).ToHashSet();
                var off = constraint.ForcedOff(name).ToHashSet();
                long k = initial.Mask.KeptIn(name);

                // Independent route: sort the free positions by score (descending), ties by lowest index.
                var expected = Enumerable.Range(0, scores.Length).Where(i => !on.Contains(i) && !off.Contains(i))
                    .OrderByDescending(i => scores[i]).ThenBy(i => i).Take((int)(k - on.Count)).ToHashSet();
                for (int i = 0; i < scores.Length; i++)
                {
                    bool want = on.Contains(i) || expected.Contains(i);
                    mask[i].Should().Be(want, $"{name}[{i}] (forced on {on.Contains(i)}, forced off {off.Contains(i)}, score {scores[i]})");
                }
            }

            checkedSteps++;
        };
        using var result = searcher.Search(model, initial, train);
        checkedSteps.Should().Be(2 * 16);
        using var start = constraint.Apply(initial.Mask, priority: initial.Scores);
        result.Masks.Flips(start).Layers.Sum(l => l.TurnedOn).Should().BeGreaterThan(0, "the free positions must move");
    }

    [Fact]
    public void EveryPrunedPositionForcedOffFixesTheLayerAndCheckpointsStillWrite()
    {
        var (model, train) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.9);
        using var cpu = initial.Mask["fc2.weight"].cpu().flatten();
        var values = cpu.data<bool>().ToArray();

        // Force off all n − k pruned positions but one kept and one pruned swapped: the layer's mask is then fully determined.
        var pruned = Enumerable.Range(0, values.Length).Where(i => !values[i]).Select(i => (long)i).ToList();
        var kept = Enumerable.Range(0, values.Length).Where(i => values[i]).Select(i => (long)i).ToList();
        var off = pruned.Skip(1).Append(kept[0]).ToArray();
        var constraint = Make(new() { ["fc2.weight"] = [pruned[0]] }, new() { ["fc2.weight"] = off });
        var folder = Fixtures.TempFolder();
        try
        {
            var searcher = new MaskSearcher(Quick with { Restriction = NoRestriction.Instance, Constraint = constraint, CheckpointFolder = folder });
            using var result = searcher.Search(model, initial, train);
            constraint.IsSatisfiedBy(result.Masks).Should().BeTrue();
            using var fc2 = result.Masks["fc2.weight"].cpu().flatten();
            var final = fc2.data<bool>().ToArray();
            Enumerable.Range(0, final.Length).Where(i => final[i]).Select(i => (long)i)
                .Should().Equal(kept.Skip(1).Append(pruned[0]).Order());
            File.Exists(MaskSearcher.CheckpointPath(folder)).Should().BeTrue();
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void AConstraintThatDoesNotFitIsRejectedWithTheOptionName()
    {
        var (model, train) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        using var initial = Fixtures.Magnitude(model, 0.9);
        long kept = initial.Mask.KeptIn("fc1.weight");
        var bad = new (string Why, MaskConstraint Constraint)[]
        {
            ("another model", Make(new() { ["conv.weight"] = [0] }, [])),
            ("the classifier is not searched", Make(new() { ["fc3.weight"] = [0] }, [])),
            ("index out of range", Make([], new() { ["fc1.weight"] = [64 * 20] })),
            ("more forced on than kept", Make(new() { ["fc1.weight"] = Enumerable.Range(0, (int)kept + 1).Select(i => (long)i).ToArray() }, [])),
        };
        foreach (var (why, constraint) in bad)
        {
            var searcher = new MaskSearcher(Quick with { Constraint = constraint });
            var act = () => searcher.Search(model, initial, train);
            act.Should().Throw<ArgumentException>(why).Which.ParamName.Should().Be(nameof(MaskSearchOptions.Constraint), why);
        }
    }

    [Fact]
    public void NoConstraintAndAnEmptyConstraintGiveTheSameSearch()
    {
        SearchResult Run(MaskConstraint? constraint)
        {
            var (model, train) = PretrainedMlp();
            using var _m = model;
            using var _t = train;
            using var initial = Fixtures.Magnitude(model, 0.9);
            return new MaskSearcher(Quick with { Seed = 3, Constraint = constraint }).Search(model, initial, train);
        }

        using var none = Run(null);
        using var empty = Run(Make([], []));
        Digest(none).Should().Be(Digest(empty));
        none.History.Sum(h => h.FlipsAccepted).Should().BeGreaterThan(0);
        new MaskSearchOptions().Fingerprint().Should().NotContain("constraint");
    }

    [Fact]
    public void ResumeHonoursTheConstraintAndRefusesAnotherOne()
    {
        var (model, train) = PretrainedMlp();
        using var _m = model;
        using var _t = train;
        var pretrained = Fixtures.State(model);
        using var initial = Fixtures.Magnitude(model, 0.9);
        var constraint = RandomConstraint(initial.Mask, 3);
        var options = Quick with { Constraint = constraint, ProgressInterval = 1 };
        var folderA = Fixtures.TempFolder();
        var folderB = Fixtures.TempFolder();
        try
        {
            using var uninterrupted = new MaskSearcher(options with { CheckpointFolder = folderA }).Search(model, initial, train);

            Fixtures.Load(model, pretrained);
            using var cts = new CancellationTokenSource();
            var progress = new SyncProgress(p =>
            {
                if (p.Epoch == 2 && p.Step == 3)
                {
                    cts.Cancel();
                }
            });
            var interrupted = () => new MaskSearcher(options with { CheckpointFolder = folderB }).Search(model, initial, train, null, progress, cts.Token);
            interrupted.Should().Throw<OperationCanceledException>();

            Fixtures.Load(model, pretrained);
            var other = () => new MaskSearcher(options with { CheckpointFolder = folderB, Constraint = RandomConstraint(initial.Mask, 4) }).Resume(model, train);
            other.Should().Throw<ArgumentException>().WithParameterName("options");
            var none = () => new MaskSearcher(options with { CheckpointFolder = folderB, Constraint = null }).Resume(model, train);
            none.Should().Throw<ArgumentException>().WithParameterName("options");

            using var resumed = new MaskSearcher(options with { CheckpointFolder = folderB }).Resume(model, train);
            constraint.IsSatisfiedBy(resumed.Masks).Should().BeTrue();
            resumed.Masks.Equals(uninterrupted.Masks).Should().BeTrue();
            foreach (var name in resumed.Scores.Names)
            {
                Fixtures.Same(resumed.Scores[name], uninterrupted.Scores[name]).Should().BeTrue(name);
            }
        }
        finally
        {
            Directory.Delete(folderA, true);
            Directory.Delete(folderB, true);
        }
    }

    /// <summary>IProgress that reports synchronously.</summary>
    private sealed class SyncProgress(Action<SearchProgress> report) : IProgress<SearchProgress>
    {
        public void Report(SearchProgress value) => report(value);
    }
}
