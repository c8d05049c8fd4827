using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

/// <summary>Magnitude, SNIP and GraSP on the 3-2-2 MLP against hand-derived gradients and finite differences.</summary>
[Collection(SequentialCollection.Name)]
public sealed class KnownAnswerTests
{
    private static readonly string[] Names = ["fc1.weight", "fc2.weight"];

    /// <summary>Gives the model stale gradients, a frozen bias and mixed modes, so that restoration is visible.</summary>
    private static void Dirty(nn.Module model)
    {
        using var batch = TestModels.MlpBatch();
        var loss = nn.functional.cross_entropy(((nn.Module<Tensor, Tensor>)model).forward(batch.Inputs), batch.Labels);
        loss.backward();
        model.get_parameter("fc2.bias")!.requires_grad_(false);
        model.train();
        model.named_modules().Single(m => m.name == "relu").module.eval();
    }

    private static void ShouldMatch(double[] actual, double[] expected, double relative)
    {
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            var tol = relative * Math.Max(Math.Abs(expected[i]), expected.Max(Math.Abs) * 1e-3);
            actual[i].Should().BeApproximately(expected[i], tol, $"entry {i}");
        }
    }

    [Fact]
    public void MagnitudeIsAbsoluteWeight()
    {
        using var model = TestModels.Mlp322();
        using var scores = new MagnitudeCriterion().Score(model, TestModels.Select(model), [], cancellationToken: Test.Ct);
        TestModels.Flat(scores, Names).Should().Equal(TestModels.MlpWeights().Select(Math.Abs));
    }

    [Fact]
    public void SnipMatchesHandGradientAndLeavesModelUnchanged()
    {
        using var model = TestModels.Mlp322();
        Dirty(model);
        using var snapshot = new ModelSnapshot(model);
        using var batch = TestModels.MlpBatch();
        using var scores = new SnipCriterion().Score(model, TestModels.Select(model), [batch], cancellationToken: Test.Ct);

        var w = TestModels.MlpWeights();
        var g = TestModels.MlpGradient(w, 1.0);
        ShouldMatch(TestModels.Flat(scores, Names), w.Zip(g, (a, b) => Math.Abs(a * b)).ToArray(), 1e-9);
        scores.Device.type.Should().Be(DeviceType.CPU);
        snapshot.AssertUnchanged(model);
    }

    [Fact]
    public void SnipSumsGradientsOverBatchesBeforeTheAbsoluteValue()
    {
        using var model = TestModels.Mlp322();
        using var b1 = TestModels.MlpBatch(0, 2);
        using var b2 = TestModels.MlpBatch(2, 2);
        using var scores = new SnipCriterion().Score(model, TestModels.Select(model), [b1, b2], cancellationToken: Test.Ct);

        var w = TestModels.MlpWeights();
        var g1 = TestModels.MlpGradient(w, 1.0, 0, 2);
        var g2 = TestModels.MlpGradient(w, 1.0, 2, 2);
        var expected = w.Select((wi, i) => Math.Abs(wi * (g1[i] + g2[i]))).ToArray();
        var perBatchAbs = w.Select((wi, i) => Math.Abs(wi * g1[i]) + Math.Abs(wi * g2[i])).ToArray();
        var actual = TestModels.Flat(scores, Names);
        ShouldMatch(actual, expected, 1e-9);
        expected.Zip(perBatchAbs).Any(p => Math.Abs(p.First - p.Second) > 1e-6).Should().BeTrue("the two accumulations must differ on this data");
    }

    [Theory]
    [InlineData(200.0)]
    [InlineData(1.0)]
    public void GraspEqualsWeightTimesFiniteDifferenceHessianGradient(double temperature)
    {
        using var model = TestModels.Mlp322();
        Dirty(model);
        using var snapshot = new ModelSnapshot(model);
        using var batch = TestModels.MlpBatch();
        using var scores = new GraspCriterion(new GraspOptions { Temperature = temperature })
            .Score(model, TestModels.Select(model), [batch], cancellationToken: Test.Ct);

        // Hg by central differences of the hand-derived gradient along g: (g(w+εg) − g(w−εg)) / 2ε.
        var w = TestModels.MlpWeights();
        var g = TestModels.MlpGradient(w, temperature);
        var eps = 1e-3 / g.Max(Math.Abs) * w.Max(Math.Abs) * 1e-2;
        var plus = TestModels.MlpGradient(w.Select((x, i) => x + (eps * g[i])).ToArray(), temperature);
        var minus = TestModels.MlpGradient(w.Select((x, i) => x - (eps * g[i])).ToArray(), temperature);
        var hg = plus.Select((p, i) => (p - minus[i]) / (2 * eps)).ToArray();

        // Library sign: θ ⊙ Hg (higher = keep) = −(official score −θ ⊙ Hg).
        ShouldMatch(TestModels.Flat(scores, Names), w.Select((x, i) => x * hg[i]).ToArray(), 1e-5);
        snapshot.AssertUnchanged(model);
    }

    [Fact]
    public void GraspHessianGradientMatchesFiniteDifferenceOfTorchGradientsInFloat64()
    {
        using var model = TestModels.Mlp322();
        using var batch = TestModels.MlpBatch();
        var criterion = new GraspCriterion(new GraspOptions { Temperature = 1.0 });
        var weights = Names.Select(n => model.get_parameter(n)!).ToList<Tensor>();
        var hg = criterion.HessianGradient(model, weights, [batch], Test.Ct);

        List<Tensor> Grad()
        {
            var loss = nn.functional.cross_entropy(((nn.Module<Tensor, Tensor>)model).forward(batch.Inputs), batch.Labels);
            return autograd.grad([loss], weights).Select(t => t.detach().clone()).ToList();
        }

        var g = Grad();
        const double eps = 1e-4;
        var originals = weights.Select(w => w.detach().clone()).ToList();
        using (no_grad())
        {
            for (int i = 0; i < weights.Count; i++) weights[i].add_(g[i] * eps);
        }

        var gp = Grad();
        using (no_grad())
        {
            for (int i = 0; i < weights.Count; i++) weights[i].copy_(originals[i] - (g[i] * eps));
        }

        var gm = Grad();
        for (int i = 0; i < weights.Count; i++)
        {
            var fd = (gp[i] - gm[i]) / (2 * eps);
            hg[i].allclose(fd, rtol: 1e-6, atol: 1e-9).Should().BeTrue($"Hg of {Names[i]}: {hg[i].str()} vs {fd.str()}");
        }
    }

    [Fact]
    public void GraspSumsChunksLikeTheOfficialCode()
    {
        // Two chunks: Hg = (H1 + H2)(g1 + g2), each a chunk-mean quantity (docs/algorithms.md#grasp).
        using var model = TestModels.Mlp322();
        using var b1 = TestModels.MlpBatch(0, 2);
        using var b2 = TestModels.MlpBatch(2, 2);
        using var scores = new GraspCriterion(new GraspOptions { Temperature = 1.0 }).Score(model, TestModels.Select(model), [b1, b2], cancellationToken: Test.Ct);

        var w = TestModels.MlpWeights();
        var g = TestModels.MlpGradient(w, 1.0, 0, 2).Zip(TestModels.MlpGradient(w, 1.0, 2, 2), (a, b) => a + b).ToArray();
        var eps = 1e-5;
        double[] Sum(double[] x) => TestModels.MlpGradient(x, 1.0, 0, 2).Zip(TestModels.MlpGradient(x, 1.0, 2, 2), (a, b) => a + b).ToArray();
        var plus = Sum(w.Select((x, i) => x + (eps * g[i])).ToArray());
        var minus = Sum(w.Select((x, i) => x - (eps * g[i])).ToArray());
        var expected = w.Select((x, i) => x * (plus[i] - minus[i]) / (2 * eps)).ToArray();
        ShouldMatch(TestModels.Flat(scores, Names), expected, 1e-5);
    }

    [Fact]
    public void GraspKeepsWhatTheOfficialRuleKeeps()
    {
        // Official: score_off = −θ ⊙ Hg, remove the highest. Ours: keep the highest θ ⊙ Hg. Same kept set.
        using var model = TestModels.Mlp322();
        using var batch = TestModels.MlpBatch();
        using var scores = new GraspCriterion(new GraspOptions { Temperature = 1.0 }).Score(model, TestModels.Select(model), [batch], cancellationToken: Test.Ct);
        using var mask = new GlobalAllocation(allowEmptyLayers: true).Allocate(scores, 0.5);
        var ours = TestModels.Flat(scores, Names);
        var official = ours.Select(s => -s).ToArray();
        var removedByOfficial = official.Select((s, i) => (s, i)).OrderByDescending(p => p.s).Take(5).Select(p => p.i).ToHashSet();
        var kept = Names.SelectMany(n => mask[n].cpu().data<bool>().ToArray()).ToArray();
        for (int i = 0; i < kept.Length; i++)
        {
            kept[i].Should().Be(!removedByOfficial.Contains(i), $"weight {i}");
        }
    }
}
