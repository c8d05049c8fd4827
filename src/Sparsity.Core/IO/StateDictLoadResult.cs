namespace Sparsity.IO;

/// <summary>What <see cref="StateDict.Load"/> did with each key.</summary>
/// <param name="Loaded">Keys copied into the model.</param>
/// <param name="Missing">Keys of the model absent from the file.</param>
/// <param name="Unexpected">Keys of the file the model does not have.</param>
/// <param name="Mismatched">Keys present in both with a different shape or an incompatible dtype (with details).</param>
public sealed record StateDictLoadResult(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> Mismatched)
{
    /// <summary>Whether every key matched exactly.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;
}
