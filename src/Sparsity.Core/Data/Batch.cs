using static TorchSharp.torch;

namespace Sparsity.Data;

/// <summary>
/// One mini-batch: inputs (N×C×H×W images or N×F features) and integer class labels (N, int64), both on
/// the device the batch was requested for.
/// </summary>
/// <remarks>
/// Ownership: the producer owns a batch. <see cref="IDataset.Batches"/> disposes each batch when the
/// enumeration moves to the next one (or ends), so a consumer never disposes a batch and must
/// <c>clone()</c> a tensor it wants to keep beyond the current iteration. Batches built by hand (for
/// example a fixed list handed to a criterion) belong to whoever built them.
/// </remarks>
public sealed class Batch : IDisposable
{
    /// <summary>Creates a batch from inputs and labels with the same first dimension.</summary>
    /// <param name="inputs">Model inputs; the first dimension is the batch size.</param>
    /// <param name="labels">Class indices, shape (N), integer dtype.</param>
    /// <exception cref="ArgumentException">The shapes disagree, the batch is empty, or labels are not integers.</exception>
    public Batch(Tensor inputs, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        if (inputs.dim() < 1 || inputs.shape[0] == 0)
            throw new ArgumentException("A batch needs at least one input row.", nameof(inputs));
        if (labels.dim() != 1 || labels.shape[0] != inputs.shape[0])
            throw new ArgumentException(
                $"Labels must have shape ({inputs.shape[0]}) to match the inputs' first dimension; got ({string.Join(", ", labels.shape)}).",
                nameof(labels));
        if (labels.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Byte or ScalarType.Int8))
            throw new ArgumentException($"Labels must be an integer tensor (class indices); got {labels.dtype}.", nameof(labels));
        Inputs = inputs;
        Labels = labels;
    }

    /// <summary>The model inputs.</summary>
    public Tensor Inputs { get; }

    /// <summary>The class labels (class indices).</summary>
    public Tensor Labels { get; }

    /// <summary>Number of examples in the batch.</summary>
    public long Count => Inputs.shape[0];

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Inputs.Dispose();
        Labels.Dispose();
    }
}
