using System.Buffers.Binary;
using System.IO.Compression;

namespace Sparsity.Tests.Data;

/// <summary>Builds IDX file bytes by hand (independent of the reader).</summary>
internal static class IdxBytes
{
    /// <summary>Magic 00 00 08 ndim, big-endian sizes, then the data.</summary>
    public static byte[] Raw(int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), (uint)dims[i]);
        }

        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    /// <summary>Gzip-compresses <paramref name="raw"/>.</summary>
    public static byte[] Gzip(byte[] raw)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gz.Write(raw);
        }

        return buffer.ToArray();
    }

    /// <summary>Deterministic pseudo-random bytes below <paramref name="bound"/>.</summary>
    public static byte[] Values(int count, int bound, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (byte)rng.Next(bound)).ToArray();
    }

    /// <summary>Writes a tiny Fashion-MNIST-shaped folder (28×28 images) with the given counts; labels cycle 0..9.</summary>
    public static void WriteFolder(string folder, int trainCount, int testCount, bool gzip = true, byte fill = 0)
    {
        Directory.CreateDirectory(folder);
        void Write(string name, byte[] raw) => File.WriteAllBytes(Path.Combine(folder, gzip ? name + ".gz" : name), gzip ? Gzip(raw) : raw);
        Write("train-images-idx3-ubyte", Raw([trainCount, 28, 28], Enumerable.Repeat(fill, trainCount * 784).ToArray()));
        Write("train-labels-idx1-ubyte", Raw([trainCount], Enumerable.Range(0, trainCount).Select(i => (byte)(i % 10)).ToArray()));
        Write("t10k-images-idx3-ubyte", Raw([testCount, 28, 28], Enumerable.Repeat(fill, testCount * 784).ToArray()));
        Write("t10k-labels-idx1-ubyte", Raw([testCount], Enumerable.Range(0, testCount).Select(i => (byte)(i % 10)).ToArray()));
    }
}
