using System.Buffers.Binary;
using System.Text;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Tests.IO;

public sealed class SafeTensorsMutationTests
{
    private static List<byte[]> ValidFiles()
    {
        var folder = Directory.CreateTempSubdirectory("sparsity-mut-").FullName;
        try
        {
            var files = new List<byte[]> { SafeTensorsBytes.Sample() };
            var path = Path.Combine(folder, "a.safetensors");
            using (var f16 = tensor(new[] { 1f, 2f, 3f }).to(ScalarType.Float16))
            using (var bf16 = tensor(new[] { 4f, 5f }).to(ScalarType.BFloat16))
            using (var i32 = tensor(new[] { 1, 2, 3, 4 }).reshape(2, 2))
            using (var u8 = tensor(new byte[] { 9 }))
            using (var scalar = tensor(3.5))
            using (var empty = zeros(new long[] { 0, 2 }))
            {
                SafeTensorsWriter.Write(path, [KeyValuePair.Create("f16", f16), KeyValuePair.Create("bf16", bf16), KeyValuePair.Create("i32", i32),
                    KeyValuePair.Create("u8", u8), KeyValuePair.Create("scalar", scalar), KeyValuePair.Create("empty", empty)],
                    new Dictionary<string, string> { ["k"] = "v" });
                files.Add(File.ReadAllBytes(path));
            }

            return files;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        var bytes = (byte[])original.Clone();
        int headerEnd = (int)Math.Min(bytes.Length, 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        switch (rng.Next(7))
        {
            case 0: // flip 1–3 bits anywhere
                for (int i = rng.Next(1, 4); i > 0; i--)
                {
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return bytes;
            case 1: // overwrite a header byte with an interesting character
                bytes[rng.Next(8, headerEnd)] = (byte)"{}[]\",:0123456789-eE. a\\"[rng.Next(24)];
                return bytes;
            case 2: // truncate
                return bytes[..rng.Next(bytes.Length)];
            case 3: // rewrite the length prefix
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, rng.Next(3) switch
                {
                    0 => (ulong)rng.Next(bytes.Length + 16),
                    1 => (ulong)rng.NextInt64(),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(bytes) + (ulong)rng.Next(-3, 4),
                });
                return bytes;
            case 4: // edit a number in the header
            {
                var header = Encoding.UTF8.GetString(bytes, 8, headerEnd - 8);
                var digits = Enumerable.Range(0, header.Length).Where(i => char.IsAsciiDigit(header[i])).ToList();
                if (digits.Count == 0)
                {
                    return bytes;
                }

                int at = digits[rng.Next(digits.Count)];
                var replacement = rng.Next(4) switch { 0 => "9999999999999", 1 => "-1", 2 => rng.Next(10).ToString(), _ => "18446744073709551616" };
                var edited = Encoding.UTF8.GetBytes(header[..at] + replacement + header[(at + 1)..]);
                var file = new byte[8 + edited.Length + (bytes.Length - headerEnd)];
                BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)edited.Length);
                edited.CopyTo(file, 8);
                bytes.AsSpan(headerEnd).CopyTo(file.AsSpan(8 + edited.Length));
                return file;
            }

            case 5: // swap a dtype name
            {
                var text = Encoding.UTF8.GetString(bytes, 8, headerEnd - 8);
                string[] names = ["F64", "F32", "F16", "BF16", "I64", "I32", "U8", "BOOL", "I8", "F8_E4M3"];
                var from = names.FirstOrDefault(n => text.Contains($"\"{n}\"", StringComparison.Ordinal));
                if (from is null)
                {
                    return bytes;
                }

                var edited = Encoding.UTF8.GetBytes(text.Replace($"\"{from}\"", $"\"{names[rng.Next(names.Length)]}\""));
                var file = new byte[8 + edited.Length + (bytes.Length - headerEnd)];
                BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)edited.Length);
                edited.CopyTo(file, 8);
                bytes.AsSpan(headerEnd).CopyTo(file.AsSpan(8 + edited.Length));
                return file;
            }

            default: // insert or delete a byte
            {
                int at = rng.Next(bytes.Length);
                return rng.Next(2) == 0
                    ? [.. bytes[..at], (byte)rng.Next(256), .. bytes[at..]]
                    : [.. bytes[..at], .. bytes[(at + 1)..]];
            }
        }
    }

    [Fact]
    public void TenThousandCorruptionsAreReadOrRejectedWithTheFormatException()
    {
        var valid = ValidFiles();
        var rng = new Random(20261124);
        int read = 0, rejected = 0;
        for (int i = 0; i < 10_000; i++)
        {
            var bytes = Mutate(valid[i % valid.Count], rng);
            try
            {
                using var reader = SafeTensorsReader.Open(new MemoryStream(bytes), $"mutation {i}");
                foreach (var info in reader.Tensors)
                {
                    using var t = reader.ReadTensor(info.Name);
                    t.numel().Should().Be(info.ElementCount);
                    (t.numel() * t.ElementSize).Should().BeLessThanOrEqualTo(bytes.Length);
                }

                read++;
            }
            catch (SparsityFormatException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"mutation {i} escaped as {e.GetType().Name}: {e.Message}", e);
            }
        }

        (read + rejected).Should().Be(10_000);
        rejected.Should().BeGreaterThan(1_000, "most corruptions of the header must be caught");
        read.Should().BeGreaterThan(100, "bit flips in the data section leave readable files");
    }
}
