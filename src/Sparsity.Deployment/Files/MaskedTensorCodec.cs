using System.Buffers.Binary;
using System.Numerics;

namespace Sparsity.Deployment.Files;

/// <summary>
/// Encodes a masked weight (its dense bytes and its bool mask) as a packed bit mask or as CSR, and decodes
/// it back with every structural fact checked first. Works on raw little-endian bytes, so any element type
/// round-trips bit for bit.
/// </summary>
internal static class MaskedTensorCodec
{
    /// <summary>Bytes of the bit-mask encoding for <paramref name="total"/> weights, <paramref name="kept"/> kept.</summary>
    public static long BitmaskBytes(long total, long kept, int elementSize) => (total + 7) / 8 + kept * elementSize;

    /// <summary>Bytes of the CSR encoding (32-bit row pointers and column indices).</summary>
    public static long CsrBytes(long rows, long kept, int elementSize) => 4 * (rows + 1) + kept * (4 + elementSize);

    /// <summary>Packs one byte per weight (0 or 1) into bits, least significant bit first.</summary>
    public static byte[] PackBits(ReadOnlySpan<byte> mask)
    {
        var packed = new byte[(mask.Length + 7) / 8];
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] != 0)
            {
                packed[i >> 3] |= (byte)(1 << (i & 7));
            }
        }

        return packed;
    }

    /// <summary>The kept values (row-major) of a dense tensor given as bytes.</summary>
    public static byte[] KeptValues(ReadOnlySpan<byte> dense, ReadOnlySpan<byte> mask, long kept, int elementSize)
    {
        var values = new byte[kept * elementSize];
        int o = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] != 0)
            {
                dense.Slice(i * elementSize, elementSize).CopyTo(values.AsSpan(o));
                o += elementSize;
            }
        }

        return values;
    }

    /// <summary>CSR row pointers and column indices (little-endian int32 bytes) of a mask viewed as [rows, cols].</summary>
    public static (byte[] IndPtr, byte[] Indices) Csr(ReadOnlySpan<byte> mask, long rows, long kept)
    {
        var indptr = new byte[4 * (rows + 1)];
        var indices = new byte[4 * kept];
        long cols = rows == 0 ? 0 : mask.Length / rows;
        int k = 0;
        for (long r = 0; r < rows; r++)
        {
            for (long c = 0; c < cols; c++)
            {
                if (mask[(int)(r * cols + c)] != 0)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(indices.AsSpan(4 * k), (int)c);
                    k++;
                }
            }

            BinaryPrimitives.WriteInt32LittleEndian(indptr.AsSpan((int)(4 * (r + 1))), k);
        }

        return (indptr, indices);
    }

    /// <summary>
    /// Decodes a bit mask plus values into dense bytes and a 0/1 mask. Checks: the mask has ⌈n/8⌉ bytes, its
    /// padding bits are 0, and it sets exactly as many bits as there are values.
    /// </summary>
    public static (byte[] Dense, byte[] Mask) DecodeBitmask(string file, string name, long total, int elementSize, byte[] bits, byte[] values)
    {
        if (bits.LongLength != (total + 7) / 8)
        {
            throw new SparsityFormatException(file, $"'{name}' has {bits.LongLength} mask bytes; {total} weights need {(total + 7) / 8}.");
        }

        long setBits = 0;
        foreach (var b in bits)
        {
            setBits += BitOperations.PopCount(b);
        }

        int tailBits = (int)(total % 8);
        if (tailBits != 0 && (bits[^1] >> tailBits) != 0)
        {
            throw new SparsityFormatException(file, $"'{name}' sets mask bits past its {total} weights.");
        }

        if (setBits * elementSize != values.LongLength)
        {
            throw new SparsityFormatException(file, $"'{name}' keeps {setBits} weights by its mask but stores {values.LongLength / elementSize} values.");
        }

        var dense = new byte[total * elementSize];
        var mask = new byte[total];
        long v = 0;
        for (long i = 0; i < total; i++)
        {
            if ((bits[i >> 3] >> (int)(i & 7) & 1) != 0)
            {
                mask[i] = 1;
                Array.Copy(values, v, dense, i * elementSize, elementSize);
                v += elementSize;
            }
        }

        return (dense, mask);
    }

    /// <summary>
    /// Decodes CSR into dense bytes and a 0/1 mask. Checks: <c>rows + 1</c> row pointers starting at 0,
    /// non-decreasing, ending at the number of values; column indices in [0, cols) and strictly increasing
    /// within a row.
    /// </summary>
    public static (byte[] Dense, byte[] Mask) DecodeCsr(string file, string name, long rows, long cols, int elementSize, byte[] indptrBytes, byte[] indexBytes, byte[] values)
    {
        if (indptrBytes.LongLength != 4 * (rows + 1))
        {
            throw new SparsityFormatException(file, $"'{name}' has {indptrBytes.LongLength / 4} row pointers; {rows} rows need {rows + 1}.");
        }

        long kept = indexBytes.LongLength / 4;
        if (kept * elementSize != values.LongLength)
        {
            throw new SparsityFormatException(file, $"'{name}' has {kept} column indices but {values.LongLength / elementSize} values.");
        }

        var dense = new byte[rows * cols * elementSize];
        var mask = new byte[rows * cols];
        int previousEnd = BinaryPrimitives.ReadInt32LittleEndian(indptrBytes);
        if (previousEnd != 0)
        {
            throw new SparsityFormatException(file, $"'{name}' row pointers start at {previousEnd}, not 0.");
        }

        for (long r = 0; r < rows; r++)
        {
            int end = BinaryPrimitives.ReadInt32LittleEndian(indptrBytes.AsSpan((int)(4 * (r + 1))));
            if (end < previousEnd || end > kept)
            {
                throw new SparsityFormatException(file, $"'{name}' row pointer {r + 1} is {end}; it must lie in [{previousEnd}, {kept}].");
            }

            long lastColumn = -1;
            for (int j = previousEnd; j < end; j++)
            {
                int c = BinaryPrimitives.ReadInt32LittleEndian(indexBytes.AsSpan(4 * j));
                if (c <= lastColumn || c >= cols)
                {
                    throw new SparsityFormatException(file, $"'{name}' row {r} has column index {c} (after {lastColumn}; columns 0 to {cols - 1}, strictly increasing).");
                }

                lastColumn = c;
                long position = r * cols + c;
                mask[position] = 1;
                Array.Copy(values, (long)j * elementSize, dense, position * elementSize, elementSize);
            }

            previousEnd = end;
        }

        if (previousEnd != kept)
        {
            throw new SparsityFormatException(file, $"'{name}' row pointers end at {previousEnd} but {kept} values are stored.");
        }

        return (dense, mask);
    }
}
