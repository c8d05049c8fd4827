namespace Sparsity.Deployment.Files;

/// <summary>How one masked weight was stored in a compressed model file.</summary>
/// <param name="Name">The parameter's state-dict key.</param>
/// <param name="Encoding">The encoding used (never <see cref="WeightEncoding.Auto"/>).</param>
/// <param name="Total">Number of weights of the dense tensor.</param>
/// <param name="Kept">Number of kept (stored) weights.</param>
/// <param name="StoredBytes">Bytes of the tensor's payload (mask or indices plus values), without the header.</param>
public sealed record CompressedTensorSummary(string Name, WeightEncoding Encoding, long Total, long Kept, long StoredBytes);
