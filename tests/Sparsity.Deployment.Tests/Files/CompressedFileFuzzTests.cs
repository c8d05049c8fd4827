using Sparsity.Deployment.Files;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Tests.Files;

/// <summary>
/// Mutation test of the compressed format: every mutated file must either be rejected with
/// <see cref="SparsityFormatException"/> (leaving the model unchanged) or load to exactly the unmutated result.
/// The default count runs in seconds; set <c>SPARSITY_FUZZ_MUTATIONS</c> (e.g. 10000) for a long run.
/// </summary>
public sealed class CompressedFileFuzzTests
{
    private const int DefaultMutations = 400;

    [Theory]
    [InlineData(WeightEncoding.Bitmask)]
    [InlineData(WeightEncoding.Csr)]
    public void Every_mutation_is_rejected_cleanly_or_loads_the_original(WeightEncoding encoding)
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("SPARSITY_FUZZ_MUTATIONS"), out var n) && n > 0 ? n : DefaultMutations;
        using var model = Small(1);
        using var masks = TestModels.Random(model, 0.3, 7, "0.weight", "2.weight");
        var path = TestModels.TempPath("fuzz-original.safetensors");
        CompressedModelFile.Save(model, masks, path, encoding, new Dictionary<string, string> { ["note"] = "fuzz" });
        var original = File.ReadAllBytes(path);
        using var reference = Small(2);
        using var referenceMasks = CompressedModelFile.Load(reference, path);

        var random = new Random(encoding == WeightEncoding.Bitmask ? 11 : 12);
        var mutated = TestModels.TempPath("fuzz-mutated.safetensors");
        int rejected = 0, identical = 0;
        using var target = Small(3);
        using var pristine = Small(3);
        TestModels.CopyState(target, pristine);
        for (int i = 0; i < count; i++)
        {
            File.WriteAllBytes(mutated, Mutate(original, random));
            try
            {
                using var loaded = CompressedModelFile.Load(target, mutated);
                TestModels.SameState(target, reference).Should().BeTrue($"mutation {i} loaded without error, so it must load the original");
                loaded.Equals(referenceMasks).Should().BeTrue($"mutation {i} loaded without error, so its masks must be the original's");
                identical++;
                TestModels.CopyState(pristine, target);
            }
            catch (SparsityFormatException e)
            {
                e.FilePath.Should().Be(mutated);
                TestModels.SameState(target, pristine).Should().BeTrue($"mutation {i} was rejected, so the model must be unchanged");
                rejected++;
            }
        }

        (rejected + identical).Should().Be(count);
        rejected.Should().BeGreaterThan(count / 2);
    }

    private static nn.Module<Tensor, Tensor> Small(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(nn.Linear(12, 10), nn.ReLU(), nn.Linear(10, 5));
    }

    /// <summary>One of: flip a bit, set a random byte, truncate, insert a byte, delete a byte, or edit a digit of the header.</summary>
    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        long headerEnd = 8 + BitConverter.ToInt64(original, 0);
        int Position() => random.Next(2) == 0 ? random.Next((int)headerEnd) : random.Next(bytes.Length);
        switch (random.Next(6))
        {
            case 0:
                var p = Position();
                bytes[p] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 1:
                bytes[Position()] = (byte)random.Next(256);
                return bytes;
            case 2:
                return bytes[..random.Next(bytes.Length)];
            case 3:
                var at = Position();
                return [.. bytes[..at], (byte)random.Next(256), .. bytes[at..]];
            case 4:
                var del = Position();
                return [.. bytes[..del], .. bytes[(del + 1)..]];
            default:
                var digits = Enumerable.Range(8, (int)headerEnd - 8).Where(i => bytes[i] is >= (byte)'0' and <= (byte)'9').ToList();
                bytes[digits[random.Next(digits.Count)]] = (byte)('0' + random.Next(10));
                return bytes;
        }
    }
}
