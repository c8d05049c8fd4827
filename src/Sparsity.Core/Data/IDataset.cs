using static TorchSharp.torch;

namespace Sparsity.Data;

/// <summary>
/// A labelled dataset that can be iterated in mini-batches: what the training loop, the evaluator, the
/// data-dependent criteria and the mask searcher read.
/// </summary>
public interface IDataset
{
    /// <summary>Number of examples.</summary>
    long Count { get; }

    /// <summary>Number of classes (labels lie in [0, ClassCount)).</summary>
    int ClassCount { get; }

    /// <summary>Shape of one input example (for example 1×28×28).</summary>
    IReadOnlyList<long> ExampleShape { get; }

    /// <summary>
    /// Iterates the dataset once in mini-batches placed on <paramref name="device"/>. With a
    /// <paramref name="shuffleSeed"/> the order is a permutation drawn from a private generator seeded with
    /// it (the global RNG is untouched), so the same seed gives the same batches; without one the order is
    /// the stored order. Each batch is disposed when the enumeration advances (see <see cref="Batch"/>).
    /// </summary>
    /// <param name="batchSize">Examples per batch (≥ 1); the last batch may be smaller unless <paramref name="dropLast"/>.</param>
    /// <param name="device">Device of the produced tensors.</param>
    /// <param name="shuffleSeed">Seed of the permutation, or null for the stored order.</param>
    /// <param name="dropLast">Skip a final batch smaller than <paramref name="batchSize"/>.</param>
    IEnumerable<Batch> Batches(int batchSize, Device device, long? shuffleSeed = null, bool dropLast = false);
}
