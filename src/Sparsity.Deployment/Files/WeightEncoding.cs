namespace Sparsity.Deployment.Files;

/// <summary>How a masked weight is stored in a compressed model file (docs/deployment.md, "File format").</summary>
public enum WeightEncoding
{
    /// <summary>Per tensor, whichever of <see cref="Bitmask"/> and <see cref="Csr"/> gives fewer bytes.</summary>
    Auto = 0,

    /// <summary>
    /// A packed bit mask (one bit per weight, row-major, least significant bit first: <c>numpy.packbits(...,
    /// bitorder="little")</c>) plus the kept values in row-major order: <c>⌈n/8⌉ + k·s</c> bytes for n weights,
    /// k kept, s bytes per value.
    /// </summary>
    Bitmask = 1,

    /// <summary>
    /// Compressed sparse rows over the weight viewed as [out, in·kh·kw]: 32-bit row pointers, 32-bit column
    /// indices and the kept values: <c>4·(rows + 1) + k·(4 + s)</c> bytes. Smaller than <see cref="Bitmask"/>
    /// below a density of about 1/32 for fp32.
    /// </summary>
    Csr = 2,
}
