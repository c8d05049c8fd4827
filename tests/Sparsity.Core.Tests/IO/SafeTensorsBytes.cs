using System.Buffers.Binary;
using System.Text;

namespace Sparsity.Tests.IO;

/// <summary>Composes safetensors files byte by byte from the format's specification (no library code).</summary>
internal static class SafeTensorsBytes
{
    /// <summary>8-byte little-endian header length, the header text (UTF-8), then the data bytes.</summary>
    public static byte[] Compose(string header, byte[] data)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + headerBytes.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)headerBytes.Length);
        headerBytes.CopyTo(file, 8);
        data.CopyTo(file, 8 + headerBytes.Length);
        return file;
    }

    /// <summary>Little-endian bytes of float32 values.</summary>
    public static byte[] F32(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    /// <summary>Little-endian bytes of int64 values.</summary>
    public static byte[] I64(params long[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        }

        return bytes;
    }

    /// <summary>A small valid file: a F32 [2, 2], an I64 [3] and a BOOL [2] tensor with metadata.</summary>
    public static byte[] Sample()
    {
        var data = F32(1f, -2f, 0.5f, float.PositiveInfinity).Concat(I64(7, -8, long.MaxValue)).Concat(new byte[] { 1, 0 }).ToArray();
        const string header = """{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"n":{"dtype":"I64","shape":[3],"data_offsets":[16,40]},"m":{"dtype":"BOOL","shape":[2],"data_offsets":[40,42]}}""";
        return Compose(header, data);
    }
}
