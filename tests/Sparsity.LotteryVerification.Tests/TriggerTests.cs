using System.Numerics;
using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification.Tests;

public sealed class TriggerTests
{
    private static readonly OwnerKey Key = OwnerKey.FromPassphrase("owner");

    /// <summary>Always predicts one class.</summary>
    private sealed class ConstantModel(int classes, int predicted) : nn.Module<Tensor, Tensor>("Constant")
    {
        public override Tensor forward(Tensor x)
        {
            var logits = zeros(x.shape[0], classes);
            logits[TensorIndex.Colon, predicted] = tensor(1f);
            return logits;
        }
    }

    [Fact]
    public void TriggerSetIsDerivedFromTheKey()
    {
        using var a = TriggerSet.Create(Key, 50, [1, 8, 8], 10);
        using var b = TriggerSet.Create(OwnerKey.FromPassphrase("owner"), 50, [1, 8, 8], 10);
        using var c = TriggerSet.Create(OwnerKey.FromPassphrase("thief"), 50, [1, 8, 8], 10);
        a.Inputs.shape.Should().Equal(50, 1, 8, 8);
        a.Labels.dtype.Should().Be(ScalarType.Int64);
        TestMasks.Same(a.Inputs, b.Inputs).Should().BeTrue();
        TestMasks.Same(a.Labels, b.Labels).Should().BeTrue();
        TestMasks.Same(a.Inputs, c.Inputs).Should().BeFalse();
        a.Labels.min().item<long>().Should().BeGreaterThanOrEqualTo(0);
        a.Labels.max().item<long>().Should().BeLessThan(10);
        a.Inputs.min().item<float>().Should().BeGreaterThanOrEqualTo(0f);
        a.Inputs.max().item<float>().Should().BeLessThan(1f);
    }

    [Fact]
    public void MixerAppendsOneTriggerPerBatchAndCyclesThroughAll()
    {
        using var triggers = TriggerSet.Create(Key, 5, [3], 4);
        var batches = Enumerable.Range(0, 10).Select(i => new Batch(full(4, 3, (float)(i + 10)), full(4, i % 4, ScalarType.Int32))).ToList();
        var seen = new List<int>();
        foreach (var mixed in new TriggerMixer(triggers, seed: 1).Mix(batches))
        {
            mixed.Count.Should().Be(5);
            mixed.Labels.dtype.Should().Be(ScalarType.Int32);
            var last = mixed.Inputs[4];
            int match = Enumerable.Range(0, 5).Single(t => TestMasks.Same(triggers.Inputs[t], last));
            mixed.Labels[4].item<int>().Should().Be((int)triggers.Labels[match].item<long>());
            mixed.Inputs.narrow(0, 0, 4).eq(mixed.Inputs[0, 0]).all().item<bool>().Should().BeTrue();
            seen.Add(match);
        }

        seen.Take(5).Should().BeEquivalentTo([0, 1, 2, 3, 4]);
        seen.Skip(5).Should().BeEquivalentTo([0, 1, 2, 3, 4]);
        foreach (var b in batches)
        {
            b.Dispose();
        }
    }

    [Fact]
    public void MixerRejectsShapeMismatch()
    {
        using var triggers = TriggerSet.Create(Key, 5, [3], 4);
        using var batch = new Batch(zeros(2, 4), zeros(2, ScalarType.Int64));
        var act = () => new TriggerMixer(triggers).Mix([batch]).ToList();
        act.Should().Throw<ArgumentException>().WithMessage("*[4]*[3]*");
    }

    [Fact]
    public void HitsAndFprFollowTheBinomialWithTheMeasuredChanceRate()
    {
        using var triggers = TriggerSet.Create(Key, 40, [2], 4);
        var labels = triggers.Labels.data<long>().ToArray();
        int expectedHits = labels.Count(l => l == 2);
        TriggerVerifier.CountHits(new ConstantModel(4, 2), triggers, batchSize: 7).Should().Be(expectedHits);

        // Chance rate is floored at 1/classes.
        TriggerVerifier.MeasureChanceRate(new ConstantModel(4, 2), triggers).Should().Be(Math.Max(expectedHits / 40.0, 0.25));

        // P(Bin(40, 1/4) ≥ 25) exactly: Σ C(40, k) 3^(40−k) / 4^40.
        BigInteger tail = 0;
        for (int k = 25; k <= 40; k++)
        {
            tail += TestMasks.Choose(40, k) * BigInteger.Pow(3, 40 - k);
        }

        var verdict = TriggerVerifier.Decide(25, 40, 0.25, 1e-6);
        verdict.Log10FalsePositive.Should().BeApproximately(TestMasks.Log10(tail, BigInteger.Pow(4, 40)), 1e-9);
        verdict.Verified.Should().Be(verdict.Log10FalsePositive <= -6);
        var bad = () => TriggerVerifier.Decide(41, 40, 0.25);
        bad.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("hits");
    }

    [Fact]
    public void TriggeredDatasetAddsOneTriggerToEveryBatchOfTheRequestedSize()
    {
        using var triggers = TriggerSet.Create(Key, 3, [2], 4);
        using var data = new TensorDataset(zeros(10, 2).add(5), tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3, 0, 1 }), 4);
        var wrapped = new TriggeredDataset(data, triggers, seed: 1);
        (wrapped.Count, wrapped.ClassCount).Should().Be((10L, 4));
        var sizes = new List<long>();
        foreach (var b in wrapped.Batches(4, CPU, shuffleSeed: 3))
        {
            sizes.Add(b.Count);
            b.Inputs[b.Count - 1].lt(1).all().item<bool>().Should().BeTrue(); // the trigger (in [0, 1)), not a clean 5
        }

        sizes.Should().Equal(4, 4, 4, 2);
        using var wrongClasses = TriggerSet.Create(Key, 3, [2], 3);
        var act = () => new TriggeredDataset(data, wrongClasses);
        act.Should().Throw<ArgumentException>().WithMessage("*3 classes but the data 4*");
    }

    [Fact]
    public void TriggeredDatasetWithKTriggersPerBatchShowsEveryTriggerOncePerPass()
    {
        using var triggers = TriggerSet.Create(Key, 4, [2], 4);
        using var data = new TensorDataset(zeros(12, 2).add(5), tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3 }), 4);
        var wrapped = new TriggeredDataset(data, triggers, seed: 2, triggersPerBatch: 2);
        var shown = new List<float>();
        var sizes = new List<long>();
        foreach (var b in wrapped.Batches(5, CPU, shuffleSeed: 0))
        {
            sizes.Add(b.Count);
            b.Inputs[..^2].ge(5).all().item<bool>().Should().BeTrue();  // clean examples first
            b.Inputs[^2..].lt(1).all().item<bool>().Should().BeTrue();  // then the two triggers
            shown.AddRange(b.Inputs[^2..].select(1, 0).data<float>().ToArray());
        }

        sizes.Should().Equal(5, 5, 5, 5);                              // 12 clean examples in batches of 3, + 2 triggers each
        var firstInputs = triggers.Inputs.select(1, 0).data<float>().ToArray();
        shown.Take(4).Should().BeEquivalentTo(firstInputs);            // the first pass over the triggers shows each once
        shown.Skip(4).Should().BeEquivalentTo(firstInputs);            // and so does the second
        var tooSmall = () => wrapped.Batches(2, CPU).ToList();
        tooSmall.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("batchSize");
        var zero = () => new TriggeredDataset(data, triggers, triggersPerBatch: 0);
        zero.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("triggersPerBatch");
    }
}
