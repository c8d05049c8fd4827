using System.Text;
using Sparsity.IO;
using Sparsity.Tests.Fuzzing;
using static TorchSharp.torch;

namespace Sparsity.Tests.IO;

/// <summary>
/// Mutation fuzzing of mask files (see <see cref="FileFuzzer"/>; set <c>SPARSITY_FUZZ_ITERATIONS=10000</c> for the
/// full run). Every corrupted file is either rejected with <see cref="SparsityFormatException"/> or loads to masks
/// identical to the original's. Full run recorded in docs/core.md ("Reliability").
/// </summary>
public sealed class MaskSetFuzzTests
{
    private static byte[] ValidFile()
    {
        var folder = Directory.CreateTempSubdirectory("sparsity-maskfuzz-").FullName;
        try
        {
            manual_seed(11);
            using var masks = new MaskSet([
                KeyValuePair.Create("conv.weight", rand(4, 2, 3, 3).gt(0.5).DetachFromDisposeScope()),
                KeyValuePair.Create("fc.weight", rand(10, 8).gt(0.3).DetachFromDisposeScope()),
                KeyValuePair.Create("out.weight", rand(3, 10).gt(0.7).DetachFromDisposeScope()),
            ]);
            var path = Path.Combine(folder, "m.safetensors");
            masks.Save(path, new Dictionary<string, string> { ["sparsity"] = masks.Sparsity.ToString("R", System.Globalization.CultureInfo.InvariantCulture) });
            return File.ReadAllBytes(path);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    internal static string Describe(MaskSet masks)
    {
        var text = new StringBuilder();
        foreach (var (name, m) in masks.Entries)
        {
            text.Append(name).Append('[').Append(string.Join(",", m.shape)).Append("]=");
            text.Append(string.Concat(m.flatten().data<bool>().ToArray().Select(b => b ? '1' : '0'))).Append(';');
        }

        return text.ToString();
    }

    [Fact]
    public void MutatedMaskFilesAreRejectedWithTheFormatExceptionOrReadIdentically()
    {
        var original = ValidFile();
        int n = FileFuzzer.Iterations;
        var (identical, rejected) = FileFuzzer.Run<SparsityFormatException>(original, FileFuzzer.MutateSafeTensors, path =>
        {
            using var masks = MaskSet.Load(path);
            return Describe(masks);
        }, n, seed: 19001);
        (identical + rejected).Should().Be(n);
        rejected.Should().BeGreaterThan(n / 2, "almost every corruption changes something the checksum covers");
    }
}
