using System.Buffers.Binary;
using System.Text;
using Sparsity.IO;
using Sparsity.Tests.Fuzzing;
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

    [Fact]
    public void TenThousandCorruptionsAreReadOrRejectedWithTheFormatException()
    {
        var valid = ValidFiles();
        var rng = new Random(20261124);
        int read = 0, rejected = 0;
        for (int i = 0; i < 10_000; i++)
        {
            var bytes = FileFuzzer.MutateSafeTensors(valid[i % valid.Count], rng);
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
