using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

[Collection(SequentialCollection.Name)]
public sealed class SynFlowTests
{
    private static readonly double[,] A = { { 0.5, -1.5, 0.25 }, { 2.0, 0.75, -0.125 } }; // layer 1, 2×3
    private static readonly double[,] B = { { -0.375, 1.25 }, { 0.875, -2.5 } };            // layer 2, 2×2

    private static Sequential Chain()
    {
        var l1 = nn.Linear(3, 2, hasBias: false);
        var l2 = nn.Linear(2, 2, hasBias: false);
        using (no_grad())
        {
            l1.weight!.copy_(tensor(A));
            l2.weight!.copy_(tensor(B));
        }

        return nn.Sequential(("l1", l1), ("l2", l2));
    }

    /// <summary>R = 1ᵀ|B||A|1: S_A[j,i] = |A_ji| Σ_k |B_kj|, S_B[k,j] = |B_kj| Σ_i |A_ji| (masked weights count as 0).</summary>
    private static double[] ClosedForm(double[,] a, double[,] b)
    {
        var s = new List<double>();
        for (int j = 0; j < 2; j++)
        {
            for (int i = 0; i < 3; i++)
            {
                s.Add(Math.Abs(a[j, i]) * (Math.Abs(b[0, j]) + Math.Abs(b[1, j])));
            }
        }

        for (int k = 0; k < 2; k++)
        {
            for (int j = 0; j < 2; j++)
            {
                s.Add(Math.Abs(b[k, j]) * (Math.Abs(a[j, 0]) + Math.Abs(a[j, 1]) + Math.Abs(a[j, 2])));
            }
        }

        return [.. s];
    }

    [Fact]
    public void SingleShotMatchesClosedFormOfTwoLayerLinearNet()
    {
        using var model = Chain();
        using var snapshot = new ModelSnapshot(model);
        var criterion = new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = 1 }, InputShape = [3] });
        using var scores = criterion.Score(model, TestModels.Select(model), [], cancellationToken: Test.Ct);
        scores["l1.weight"].dtype.Should().Be(ScalarType.Float64);
        var actual = TestModels.Flat(scores, "l1.weight", "l2.weight");
        var expected = ClosedForm(A, B);
        for (int i = 0; i < expected.Length; i++)
        {
            actual[i].Should().BeApproximately(expected[i], 1e-12 * expected.Max());
        }

        snapshot.AssertUnchanged(model);
    }

    [Fact]
    public void TwoRoundsRescoreWithTheIntermediateMaskApplied()
    {
        // Target density 0.5 over 10 weights: round 1 keeps 10 − ⌊10(1 − √0.5)⌋ = 8 under Synaptic-Flow's floor-pruned
        // rule (PyTorch's rounding would prune round(2.93) = 3), then scores again.
        using var model = Chain();
        var criterion = new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = 2 }, InputShape = [3] });
        using var scores = criterion.Score(model, TestModels.Select(model), [],
            new ScoringOptions { TargetSparsity = 0.5, Allocation = new GlobalAllocation(allowEmptyLayers: true, rounding: KeptCountRounding.FloorPruned) }, Test.Ct);

        var first = ClosedForm(A, B);
        var pruned = first.Select((s, i) => (s, i)).OrderBy(p => p.s).Take(2).Select(p => p.i).ToHashSet();
        var a = (double[,])A.Clone();
        var b = (double[,])B.Clone();
        foreach (var i in pruned)
        {
            if (i < 6) a[i / 3, i % 3] = 0; else b[(i - 6) / 2, (i - 6) % 2] = 0;
        }

        var expected = ClosedForm(a, b);
        var actual = TestModels.Flat(scores, "l1.weight", "l2.weight");
        for (int i = 0; i < expected.Length; i++)
        {
            actual[i].Should().BeApproximately(expected[i], 1e-12 * expected.Max(), $"weight {i}");
        }

        pruned.Should().OnlyContain(i => actual[i] == 0.0);
    }

    [Fact]
    public void AvoidsLayerCollapseWhereMagnitudeCollapses()
    {
        torch.manual_seed(7);
        using var model = new LeNet5();
        using (no_grad())
        {
            // Make the classifier the lowest-magnitude layer: magnitude pruning removes it entirely.
            model.get_parameter("fc3.weight")!.mul_(1e-4);
        }

        var parameters = TestModels.Select(model);
        var allocation = new GlobalAllocation(allowEmptyLayers: true);
        const double sparsity = 0.999;
        using var snapshot = new ModelSnapshot(model);
        using var input = zeros(2, 1, 28, 28);
        using var batch = new Sparsity.Data.Batch(input.clone(), zeros(2, dtype: ScalarType.Int64));

        using var magnitude = new MagnitudeCriterion().Score(model, parameters, [], cancellationToken: Test.Ct);
        using var magMask = allocation.Allocate(magnitude, sparsity);
        magMask.KeptIn("fc3.weight").Should().Be(0, "the construction makes magnitude collapse the classifier");
        PathExists(magMask).Should().BeFalse();

        using var synflow = new SynFlowCriterion().Score(model, parameters, [batch],
            new ScoringOptions { TargetSparsity = sparsity, Allocation = allocation }, Test.Ct);
        using var mask = allocation.Allocate(synflow, sparsity);
        mask.KeptCount.Should().Be(SparsityBudget.KeptCount(mask.TotalCount, sparsity));
        mask.Layers.Should().OnlyContain(l => l.Kept >= 1, "SynFlow must not collapse a layer");
        PathExists(mask).Should().BeTrue("an input-to-output path must survive");
        foreach (var name in mask.Names)
        {
            using var kept = synflow[name].masked_select(mask[name]);
            kept.min().item<double>().Should().BeGreaterThan(0.0, $"kept weights of {name} carry flow");
            synflow[name].min().item<double>().Should().BeGreaterThanOrEqualTo(0.0);
        }

        snapshot.AssertUnchanged(model);
    }

    [Fact]
    public void IsDeterministicAndTakesShapeFromBatchOrOption()
    {
        torch.manual_seed(3);
        using var model = new LeNet5();
        var parameters = TestModels.Select(model);
        var options = new SynFlowOptions { Schedule = new() { Rounds = 5 }, InputShape = [1, 28, 28] };
        var scoring = new ScoringOptions { TargetSparsity = 0.9 };
        using var batch = new Sparsity.Data.Batch(randn(3, 1, 28, 28), zeros(3, dtype: ScalarType.Int64));
        using var s1 = new SynFlowCriterion(options).Score(model, parameters, [], scoring, Test.Ct);
        using var s2 = new SynFlowCriterion(options).Score(model, parameters, [batch], scoring, Test.Ct);
        foreach (var name in s1.Names)
        {
            s1[name].eq(s2[name]).all().item<bool>().Should().BeTrue(name);
        }
    }

    [Fact]
    public void Float32PathAgreesWithFloat64OnAShallowNet()
    {
        using var model = Chain();
        var parameters = TestModels.Select(model);
        using var s64 = new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = 1 }, InputShape = [3] })
            .Score(model, parameters, [], cancellationToken: Test.Ct);
        using var s32 = new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = 1 }, InputShape = [3], UseFloat64 = false })
            .Score(model, parameters, [], cancellationToken: Test.Ct);
        s32["l1.weight"].dtype.Should().Be(ScalarType.Float32);
        TestModels.Flat(s32, "l1.weight", "l2.weight").Should().Equal(
            TestModels.Flat(s64, "l1.weight", "l2.weight"), (x, y) => Math.Abs(x - y) < 1e-5 * Math.Max(1, Math.Abs(y)));
    }

    [Fact]
    public void CancellationMidwayLeavesTheModelUnchanged()
    {
        torch.manual_seed(5);
        using var model = new LeNet5();
        model.train();
        using var snapshot = new ModelSnapshot(model);
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress(round => { if (round == 3) cts.Cancel(); });
        var criterion = new SynFlowCriterion(new SynFlowOptions { InputShape = [1, 28, 28] }, progress: progress);
        var act = () => criterion.Score(model, TestModels.Select(model), [], new ScoringOptions { TargetSparsity = 0.9 }, cts.Token);
        act.Should().Throw<OperationCanceledException>();
        snapshot.AssertUnchanged(model);
    }

    [Fact]
    public void MissingInputShapeIsAClearError()
    {
        using var model = Chain();
        var act = () => new SynFlowCriterion().Score(model, TestModels.Select(model), [], cancellationToken: Test.Ct);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "batches" && e.Message.Contains("InputShape"));
    }

    [Fact]
    public void WrongInputShapeIsAClearErrorAndModelIsUnchanged()
    {
        using var model = Chain();
        using var snapshot = new ModelSnapshot(model);
        var act = () => new SynFlowCriterion(new SynFlowOptions { InputShape = [5] }).Score(model, TestModels.Select(model), [], cancellationToken: Test.Ct);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "batches");
        snapshot.AssertUnchanged(model);
    }

    /// <summary>
    /// Reachability from the input to any output through kept weights only, by boolean propagation layer by layer
    /// (conv reachability via a 0/1 convolution of the indicator map, max-pool as "any in window").
    /// </summary>
    internal static bool PathExists(MaskSet mask)
    {
        using var scope = NewDisposeScope();
        Tensor Conv(Tensor reach, string name, long padding) =>
            nn.functional.conv2d(reach, mask[name].to(ScalarType.Float32), padding: [padding, padding]).gt(0).to(ScalarType.Float32);
        Tensor Fc(Tensor reach, string name) => reach.matmul(mask[name].to(ScalarType.Float32).t()).gt(0).to(ScalarType.Float32);

        var r = ones(1, 1, 28, 28);
        r = nn.functional.max_pool2d(Conv(r, "conv1.weight", 2), 2);
        r = nn.functional.max_pool2d(Conv(r, "conv2.weight", 0), 2);
        r = r.flatten(1);
        r = Fc(Fc(Fc(r, "fc1.weight"), "fc2.weight"), "fc3.weight");
        return r.sum().item<float>() > 0;
    }

    private sealed class SynchronousProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
