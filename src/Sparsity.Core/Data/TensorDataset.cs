using static TorchSharp.torch;

namespace Sparsity.Data;

/// <summary>
/// An in-memory dataset over an input tensor (N×…) and a label tensor (N). Holds its own copies (on the
/// device they were given on) and disposes them with the dataset.
/// </summary>
public sealed class TensorDataset : IDataset, IDisposable
{
    private readonly Tensor _inputs;
    private readonly Tensor _labels;

    /// <summary>Creates a dataset from inputs and labels; both are copied.</summary>
    /// <param name="inputs">Inputs, first dimension N ≥ 1, floating point.</param>
    /// <param name="labels">Labels, shape (N), integer class indices in [0, <paramref name="classCount"/>).</param>
    /// <param name="classCount">Number of classes (≥ 2).</param>
    /// <exception cref="ArgumentException">Shapes disagree, labels are out of range, or the data is empty.</exception>
    public TensorDataset(Tensor inputs, Tensor labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        if (inputs.dim() < 2 || inputs.shape[0] == 0)
            throw new ArgumentException("Inputs must have shape N×… with N ≥ 1.", nameof(inputs));
        if (!inputs.is_floating_point())
            throw new ArgumentException($"Inputs must be floating point; got {inputs.dtype}.", nameof(inputs));
        if (labels.dim() != 1 || labels.shape[0] != inputs.shape[0])
            throw new ArgumentException($"Labels must have shape ({inputs.shape[0]}); got ({string.Join(", ", labels.shape)}).", nameof(labels));
        using (NewDisposeScope())
        {
            var min = labels.to(ScalarType.Int64).min().item<long>();
            var max = labels.to(ScalarType.Int64).max().item<long>();
            if (min < 0 || max >= classCount)
                throw new ArgumentException($"Labels must lie in [0, {classCount}); found [{min}, {max}].", nameof(labels));
        }
        // Detached from any dispose scope: the dataset owns its copies even when built inside a caller's scope.
        _inputs = inputs.detach().clone().DetachFromDisposeScope();
        _labels = labels.detach().to(ScalarType.Int64).clone().DetachFromDisposeScope();
        ClassCount = classCount;
        ExampleShape = inputs.shape.Skip(1).ToArray();
    }

    /// <inheritdoc/>
    public long Count => _inputs.shape[0];

    /// <inheritdoc/>
    public int ClassCount { get; }

    /// <inheritdoc/>
    public IReadOnlyList<long> ExampleShape { get; }

    /// <summary>The stored inputs (owned by the dataset; do not dispose).</summary>
    public Tensor Inputs => _inputs;

    /// <summary>The stored labels, int64 (owned by the dataset; do not dispose).</summary>
    public Tensor Labels => _labels;

    /// <summary>The first <paramref name="count"/> examples (or the examples at a seeded random subset) as a new dataset.</summary>
    /// <param name="count">Number of examples, 1 ≤ count ≤ <see cref="Count"/>.</param>
    /// <param name="seed">When given, a seeded random subset instead of the first examples.</param>
    public TensorDataset Subset(long count, long? seed = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        using var scope = NewDisposeScope();
        var index = seed is { } s
            ? randperm(Count, generator: new Generator((ulong)s), device: _inputs.device).slice(0, 0, count, 1)
            : arange(count, dtype: ScalarType.Int64, device: _inputs.device);
        return new TensorDataset(_inputs.index_select(0, index), _labels.index_select(0, index.to(_labels.device)), ClassCount);
    }

    /// <inheritdoc/>
    public IEnumerable<Batch> Batches(int batchSize, Device device, long? shuffleSeed = null, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentNullException.ThrowIfNull(device);
        return Iterate(batchSize, device, shuffleSeed, dropLast);
    }

    private IEnumerable<Batch> Iterate(int batchSize, Device device, long? shuffleSeed, bool dropLast)
    {
        var n = Count;
        using var order = shuffleSeed is { } seed
            ? randperm(n, generator: new Generator((ulong)seed))
            : null;
        for (long start = 0; start < n; start += batchSize)
        {
            var size = Math.Min(batchSize, n - start);
            if (dropLast && size < batchSize) yield break;
            Batch batch;
            using (var scope = NewDisposeScope())
            {
                Tensor x, y;
                if (order is null)
                {
                    x = _inputs.slice(0, start, start + size, 1);
                    y = _labels.slice(0, start, start + size, 1);
                }
                else
                {
                    var index = order.slice(0, start, start + size, 1).to(_inputs.device);
                    x = _inputs.index_select(0, index);
                    y = _labels.index_select(0, index.to(_labels.device));
                }
                batch = new Batch(x.to(device).contiguous().MoveToOuterDisposeScope(), y.to(device).contiguous().MoveToOuterDisposeScope());
            }
            try
            {
                yield return batch;
            }
            finally
            {
                batch.Dispose();
            }
        }
    }

    /// <summary>Disposes the stored tensors.</summary>
    public void Dispose()
    {
        _inputs.Dispose();
        _labels.Dispose();
    }
}
