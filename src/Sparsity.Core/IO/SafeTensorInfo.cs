namespace Sparsity.IO;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">The tensor's key (for weights, the PyTorch state-dict key).</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions; empty for a scalar.</param>
/// <param name="Begin">Start of the tensor's bytes, relative to the data section.</param>
/// <param name="End">End (exclusive) of the tensor's bytes, relative to the data section.</param>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The TorchSharp element type the tensor is read as.</summary>
    public TorchSharp.torch.ScalarType ScalarType => DType.ToScalarType();

    /// <summary>Number of bytes, <c>End − Begin</c>.</summary>
    public long ByteCount => End - Begin;
}
