namespace Sparsity.Deployment.Files;

/// <summary>What <see cref="CompressedModelFile.Save"/> wrote.</summary>
/// <param name="Path">The file.</param>
/// <param name="FileBytes">Size of the file on disk, header included.</param>
/// <param name="DenseTensorBytes">Bytes the same state dict takes stored densely (tensor data only, no header).</param>
/// <param name="KeptParameters">Kept weights of the masked tensors plus every element of the tensors stored as is.</param>
/// <param name="Tensors">The masked weights and their encodings, in state-dict order.</param>
public sealed record CompressedFileSummary(string Path, long FileBytes, long DenseTensorBytes, long KeptParameters, IReadOnlyList<CompressedTensorSummary> Tensors);
