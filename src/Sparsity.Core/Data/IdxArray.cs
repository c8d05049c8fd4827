namespace Sparsity.Data;

/// <summary>
/// The content of one IDX file of unsigned bytes (element type 0x08): its dimensions and its data in
/// row-major order. Produced by <see cref="IdxReader"/>, which has checked that
/// <c>Data.Length</c> equals the product of <see cref="Shape"/>.
/// </summary>
/// <param name="Shape">The dimension sizes as stored in the file (first dimension = number of examples).</param>
/// <param name="Data">The bytes, row-major.</param>
public sealed record IdxArray(IReadOnlyList<long> Shape, byte[] Data)
{
    /// <summary>The first dimension (number of examples).</summary>
    public long Count => Shape[0];
}
