using Sparsity.Analysis;
using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification;

/// <summary>
/// A black-box trigger set (scheme V3, Chen et al., NeurIPS 2021, §3.4; docs/algorithms.md#trigger-set-v3) derived from the owner's key:
/// every input is a key-derived uniform pattern in [<c>low</c>, <c>high</c>) and every label a key-derived class, so the
/// set is reproducible from the key alone (the paper uses 100 fixed abstract images of Adi et al. 2018). Owns its tensors.
/// </summary>
public sealed class TriggerSet : IDisposable
{
    private TriggerSet(Tensor inputs, Tensor labels, int classCount)
    {
        Inputs = inputs;
        Labels = labels;
        ClassCount = classCount;
    }

    /// <summary>Trigger inputs, shape [count, example shape…], float32.</summary>
    public Tensor Inputs { get; }

    /// <summary>Trigger labels, shape [count], int64.</summary>
    public Tensor Labels { get; }

    /// <summary>Number of classes the labels are drawn from.</summary>
    public int ClassCount { get; }

    /// <summary>Number of triggers.</summary>
    public int Count => (int)Labels.shape[0];

    /// <summary>Shape of one example.</summary>
    public long[] ExampleShape => Inputs.shape[1..];

    /// <summary>Derives a trigger set from <paramref name="key"/>.</summary>
    /// <param name="key">The owner's key.</param>
    /// <param name="count">Number of triggers ≥ 1 (paper: 100).</param>
    /// <param name="exampleShape">Shape of one input, for example [1, 28, 28].</param>
    /// <param name="classCount">Number of classes ≥ 2.</param>
    /// <param name="device">Device of the tensors; CPU when null.</param>
    /// <param name="low">Lowest input value.</param>
    /// <param name="high">Highest input value (exclusive), above <paramref name="low"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static TriggerSet Create(OwnerKey key, int count, long[] exampleShape, int classCount, Device? device = null, double low = 0.0, double high = 1.0)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(exampleShape);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        if (exampleShape.Length == 0 || exampleShape.Any(d => d < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(exampleShape), $"[{string.Join(", ", exampleShape)}]", "Every dimension of the example shape must be ≥ 1.");
        }

        if (!(high > low))
        {
            throw new ArgumentOutOfRangeException(nameof(high), high, $"The input range must be non-empty: high must exceed low = {low}.");
        }

        long per = exampleShape.Aggregate(1L, (a, b) => a * b);
        var pixels = key.Stream("trigger/inputs");
        var values = new float[count * per];
        for (long i = 0; i < values.Length; i++)
        {
            values[i] = (float)(low + ((high - low) * pixels.NextDouble()));
        }

        var classes = key.Stream("trigger/labels");
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = classes.NextBelow(classCount);
        }

        using var scope = NewDisposeScope();
        var x = tensor(values).reshape([count, .. exampleShape]).to(device ?? CPU).clone();
        var y = tensor(labels).to(device ?? CPU).clone();
        return new TriggerSet(x.MoveToOuterDisposeScope().DetachFromDisposeScope(), y.MoveToOuterDisposeScope().DetachFromDisposeScope(), classCount);
    }

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        Inputs.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// Mixes a trigger set into training batches, one trigger per batch as in the official code (126 clean + 1 trigger) or
/// k per batch, cycling through the triggers in an order shuffled per pass.
/// </summary>
public sealed class TriggerMixer
{
    private readonly TriggerSet _triggers;
    private readonly Random _order;
    private readonly int _perBatch;

    /// <summary>Creates a mixer.</summary>
    /// <param name="triggers">The trigger set (not owned).</param>
    /// <param name="seed">Seed of the trigger order.</param>
    /// <param name="triggersPerBatch">
    /// Triggers appended to every batch (≥ 1; the paper: 1). With few training epochs one per batch shows each trigger too
    /// rarely to be learned; k per batch gives k times the exposures at the same cost.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="triggersPerBatch"/> is below 1.</exception>
    public TriggerMixer(TriggerSet triggers, int seed = 0, int triggersPerBatch = 1)
    {
        ArgumentNullException.ThrowIfNull(triggers);
        ArgumentOutOfRangeException.ThrowIfLessThan(triggersPerBatch, 1);
        _triggers = triggers;
        _order = new Random(seed);
        _perBatch = triggersPerBatch;
    }

    /// <summary>
    /// Yields each batch with the next triggers appended (inputs concatenated on dim 0, labels cast to the batch's label dtype).
    /// The yielded batches are owned by the mixer and disposed when the enumeration moves on (the <see cref="Batch"/> contract).
    /// </summary>
    /// <param name="batches">Clean batches.</param>
    /// <exception cref="ArgumentException">A batch's example shape differs from the triggers'.</exception>
    public IEnumerable<Batch> Mix(IEnumerable<Batch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        return MixIterator(batches);
    }

    private IEnumerable<Batch> MixIterator(IEnumerable<Batch> batches)
    {
        int[] order = [];
        int next = 0;
        foreach (var batch in batches)
        {
            if (!batch.Inputs.shape[1..].SequenceEqual(_triggers.ExampleShape))
            {
                throw new ArgumentException(
                    $"Batch examples have shape [{string.Join(", ", batch.Inputs.shape[1..])}] but the triggers [{string.Join(", ", _triggers.ExampleShape)}].",
                    nameof(batches));
            }

            var picks = new long[_perBatch];
            for (int j = 0; j < _perBatch; j++)
            {
                if (next == order.Length)
                {
                    order = Enumerable.Range(0, _triggers.Count).ToArray();
                    _order.Shuffle(order);
                    next = 0;
                }

                picks[j] = order[next++];
            }

            Batch mixed;
            using (var scope = NewDisposeScope())
            {
                var device = batch.Inputs.device;
                var index = tensor(picks, device: _triggers.Inputs.device);
                var x = cat([batch.Inputs, _triggers.Inputs.index_select(0, index).to(device).to(batch.Inputs.dtype)], 0);
                var y = cat([batch.Labels, _triggers.Labels.index_select(0, index).to(device).to(batch.Labels.dtype)], 0);
                mixed = new Batch(x.MoveToOuterDisposeScope().DetachFromDisposeScope(), y.MoveToOuterDisposeScope().DetachFromDisposeScope());
            }

            try
            {
                yield return mixed;
            }
            finally
            {
                mixed.Dispose();
            }
        }
    }
}

/// <summary>The outcome of a black-box trigger check.</summary>
/// <param name="Hits">Triggers predicted as their key-derived label.</param>
/// <param name="Count">Triggers queried.</param>
/// <param name="ChanceRate">Per-trigger hit probability under the null (p₀).</param>
/// <param name="Log10FalsePositive">log₁₀ P(Bin(n, p₀) ≥ hits).</param>
/// <param name="Log10Threshold">log₁₀ of the accepted false-positive rate.</param>
/// <param name="Verified">Whether the false-positive probability is at most the threshold.</param>
public sealed record TriggerVerdict(int Hits, int Count, double ChanceRate, double Log10FalsePositive, double Log10Threshold, bool Verified);

/// <summary>
/// Black-box verification by predictions only (docs/statistics.md#trigger-sets): hits ~ Bin(n, p₀) for an
/// unrelated model, with p₀ measured on an unmarked model and floored at 1/classes (our conservative rule: a model
/// cannot be assumed to do worse than uniform guessing on key-derived labels).
/// </summary>
public static class TriggerVerifier
{
    /// <summary>Number of triggers the model predicts as their label (eval mode, no gradients; the training flag is restored).</summary>
    /// <param name="model">Model mapping a batch of inputs to class logits [N, classes].</param>
    /// <param name="triggers">The trigger set (moved to the model's device by the caller if needed; inputs follow <paramref name="device"/>).</param>
    /// <param name="device">Device to run on; the triggers' device when null.</param>
    /// <param name="batchSize">Queries per forward pass ≥ 1.</param>
    public static int CountHits(nn.Module<Tensor, Tensor> model, TriggerSet triggers, Device? device = null, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(triggers);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            int hits = 0;
            for (int start = 0; start < triggers.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                int len = Math.Min(batchSize, triggers.Count - start);
                var x = triggers.Inputs.narrow(0, start, len).to(device ?? triggers.Inputs.device);
                var logits = model.forward(x);
                if (logits.dim() != 2 || logits.shape[0] != len)
                {
                    throw new ArgumentException($"The model returned shape [{string.Join(", ", logits.shape)}]; expected [{len}, classes].", nameof(model));
                }

                var predicted = logits.argmax(1).to(triggers.Labels.device);
                hits += (int)predicted.eq(triggers.Labels.narrow(0, start, len)).sum().item<long>();
            }

            return hits;
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The chance hit rate p₀ = max(hits / n on an unmarked model, 1 / classes).</summary>
    /// <param name="unmarked">A model trained without the triggers.</param>
    /// <param name="triggers">The trigger set.</param>
    /// <param name="device">Device to run on.</param>
    public static double MeasureChanceRate(nn.Module<Tensor, Tensor> unmarked, TriggerSet triggers, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(triggers);
        int hits = CountHits(unmarked, triggers, device);
        return Math.Max((double)hits / triggers.Count, 1.0 / triggers.ClassCount);
    }

    /// <summary>Decides from a hit count: log₁₀ P(Bin(n, p₀) ≥ hits) against a false-positive threshold.</summary>
    /// <param name="hits">Hits ≥ 0.</param>
    /// <param name="count">Triggers queried ≥ hits.</param>
    /// <param name="chanceRate">p₀ in (0, 1).</param>
    /// <param name="falsePositiveRate">Accepted false-positive rate in (0, 1).</param>
    public static TriggerVerdict Decide(int hits, int count, double chanceRate, double falsePositiveRate = 1e-9)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (hits < 0 || hits > count)
        {
            throw new ArgumentOutOfRangeException(nameof(hits), hits, $"Hits must lie in [0, {count}].");
        }

        if (!(chanceRate > 0 && chanceRate < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(chanceRate), chanceRate, "The chance rate must lie in (0, 1).");
        }

        if (!(falsePositiveRate > 0 && falsePositiveRate < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(falsePositiveRate), falsePositiveRate, "The false-positive rate must lie in (0, 1), for example 1e-9.");
        }

        double log10 = Binomial.LogSurvival(count, chanceRate, hits) / SpecialFunctions.Ln10;
        double threshold = Math.Log10(falsePositiveRate);
        return new TriggerVerdict(hits, count, chanceRate, log10, threshold, log10 <= threshold);
    }

    /// <summary>Queries <paramref name="suspect"/> with the triggers and decides (see <see cref="Decide"/>).</summary>
    /// <param name="suspect">The suspect model (black box: only predictions are used).</param>
    /// <param name="triggers">The trigger set.</param>
    /// <param name="chanceRate">p₀, for example from <see cref="MeasureChanceRate"/>.</param>
    /// <param name="falsePositiveRate">Accepted false-positive rate.</param>
    /// <param name="device">Device to run on.</param>
    public static TriggerVerdict Verify(nn.Module<Tensor, Tensor> suspect, TriggerSet triggers, double chanceRate, double falsePositiveRate = 1e-9, Device? device = null) =>
        Decide(CountHits(suspect, triggers, device), triggers.Count, chanceRate, falsePositiveRate);
}

/// <summary>
/// A training set with triggers in every batch (the paper's V3 retraining: one per batch): batches of
/// <c>batchSize − k</c> clean examples from the inner set plus k triggers, so any trainer that takes an
/// <see cref="IDataset"/> can embed the trigger set. Counts and shapes are the inner set's.
/// </summary>
public sealed class TriggeredDataset : IDataset
{
    private readonly IDataset _inner;
    private readonly TriggerSet _triggers;
    private readonly int _seed;
    private readonly int _perBatch;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The clean training set (not owned).</param>
    /// <param name="triggers">The trigger set (not owned); example shape and class count must match.</param>
    /// <param name="seed">Seed of the trigger order (combined with each epoch's shuffle seed).</param>
    /// <param name="triggersPerBatch">Triggers in every batch, k ≥ 1 (the paper: 1; see <see cref="TriggerMixer"/>).</param>
    /// <exception cref="ArgumentException">Shapes or class counts differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="triggersPerBatch"/> is below 1.</exception>
    public TriggeredDataset(IDataset inner, TriggerSet triggers, int seed = 0, int triggersPerBatch = 1)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(triggers);
        ArgumentOutOfRangeException.ThrowIfLessThan(triggersPerBatch, 1);
        if (!inner.ExampleShape.SequenceEqual(triggers.ExampleShape))
        {
            throw new ArgumentException(
                $"The triggers have example shape [{string.Join(", ", triggers.ExampleShape)}] but the data [{string.Join(", ", inner.ExampleShape)}].", nameof(triggers));
        }

        if (triggers.ClassCount != inner.ClassCount)
        {
            throw new ArgumentException($"The triggers have {triggers.ClassCount} classes but the data {inner.ClassCount}.", nameof(triggers));
        }

        _inner = inner;
        _triggers = triggers;
        _seed = seed;
        _perBatch = triggersPerBatch;
    }

    /// <inheritdoc />
    public long Count => _inner.Count;

    /// <inheritdoc />
    public int ClassCount => _inner.ClassCount;

    /// <inheritdoc />
    public IReadOnlyList<long> ExampleShape => _inner.ExampleShape;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> does not exceed the triggers per batch.</exception>
    public IEnumerable<Batch> Batches(int batchSize, Device device, long? shuffleSeed = null, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(batchSize, _perBatch);
        int seed = unchecked(_seed + (int)(shuffleSeed ?? 0));
        return new TriggerMixer(_triggers, seed, _perBatch).Mix(_inner.Batches(batchSize - _perBatch, device, shuffleSeed, dropLast));
    }
}
