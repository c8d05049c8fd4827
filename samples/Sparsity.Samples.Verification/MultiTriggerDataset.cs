using Sparsity.Data;
using Sparsity.LotteryVerification;
using static TorchSharp.torch;

/// <summary>
/// A training set with <c>k</c> triggers in every batch (<c>batchSize − k</c> clean examples + k triggers, cycling through
/// the triggers in an order shuffled per pass). The paper and the library's <see cref="TriggeredDataset"/> use k = 1; a
/// larger k gives each trigger k times more exposures in the same epochs (<c>--triggers-per-batch</c>). Counts and shapes
/// are the inner set's.
/// </summary>
internal sealed class MultiTriggerDataset(IDataset inner, TriggerSet triggers, int perBatch, int seed) : IDataset
{
    public long Count => inner.Count;

    public int ClassCount => inner.ClassCount;

    public IReadOnlyList<long> ExampleShape => inner.ExampleShape;

    public IEnumerable<Batch> Batches(int batchSize, Device device, long? shuffleSeed = null, bool dropLast = false)
    {
        if (batchSize <= perBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"The batch must hold more than the {perBatch} triggers per batch.");
        }

        var order = new Random(unchecked(seed + (int)(shuffleSeed ?? 0)));
        int[] queue = [];
        int next = 0;
        foreach (var batch in inner.Batches(batchSize - perBatch, device, shuffleSeed, dropLast))
        {
            var picks = new long[perBatch];
            for (int j = 0; j < perBatch; j++)
            {
                if (next == queue.Length)
                {
                    queue = Enumerable.Range(0, triggers.Count).ToArray();
                    order.Shuffle(queue);
                    next = 0;
                }

                picks[j] = queue[next++];
            }

            Batch mixed;
            using (var scope = NewDisposeScope())
            {
                var index = tensor(picks).to(triggers.Inputs.device);
                var x = cat([batch.Inputs, triggers.Inputs.index_select(0, index).to(batch.Inputs.device).to(batch.Inputs.dtype)], 0);
                var y = cat([batch.Labels, triggers.Labels.index_select(0, index).to(batch.Labels.device).to(batch.Labels.dtype)], 0);
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
