using Sparsity.Tests.Fuzzing;
using Microsoft.Extensions.Logging;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Tests.IO;

/// <summary>Checksums, the previous checkpoint generation and the clean-up of temporary files left by killed writes.</summary>
public sealed class CheckpointGenerationTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sparsity-gen-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static void Write(string path, float value)
    {
        using var t = full(new long[] { 4 }, value);
        SafeTensorsWriter.WriteWithChecksum(path, [KeyValuePair.Create("x", t)], new Dictionary<string, string> { ["note"] = "n" }, keepPrevious: true);
    }

    private static float Read(string path)
    {
        using var reader = SafeTensorsReader.Open(path);
        reader.VerifyChecksum();
        using var t = reader.ReadTensor("x");
        return t[0].item<float>();
    }

    [Fact]
    public void TheChecksumCoversDataShapesDtypesAndMetadata()
    {
        var path = Path.Combine(_root, "c.safetensors");
        Write(path, 1f);
        Read(path).Should().Be(1f);
        var good = File.ReadAllBytes(path);

        var flipped = (byte[])good.Clone();
        flipped[^1] ^= 0x01; // a data bit
        File.WriteAllBytes(path, flipped);
        var act = () => Read(path);
        act.Should().Throw<SparsityFormatException>().WithMessage("*checksum*");

        var text = System.Text.Encoding.Latin1.GetString(good);
        File.WriteAllBytes(path, System.Text.Encoding.Latin1.GetBytes(text.Replace("\"note\":\"n\"", "\"note\":\"m\"")));
        act.Should().Throw<SparsityFormatException>().WithMessage("*checksum*");

        var plain = Path.Combine(_root, "plain.safetensors");
        using (var t = ones(2))
        {
            SafeTensorsWriter.Write(plain, [KeyValuePair.Create("x", t)]);
        }

        using var reader = SafeTensorsReader.Open(plain);
        reader.HasChecksum.Should().BeFalse();
        var verify = () => reader.VerifyChecksum();
        verify.Should().Throw<SparsityFormatException>().WithMessage("*no 'sparsity.sha256'*");
    }

    [Fact]
    public void ACorruptOrMissingNewestGenerationFallsBackToThePreviousOneAndSaysSo()
    {
        var path = Path.Combine(_root, "ckpt.safetensors");
        Write(path, 1f);
        Write(path, 2f);
        File.Exists(SafeTensorsReader.PreviousGenerationPath(path)).Should().BeTrue();
        var log = new WarningLog<CheckpointGenerationTests>();
        SafeTensorsReader.ReadWithFallback(path, Read, log).Should().Be(2f);
        log.Messages.Should().BeEmpty();

        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 3)]); // truncated newest
        SafeTensorsReader.ReadWithFallback(path, Read, log).Should().Be(1f);
        log.Messages.Should().ContainSingle().Which.Should().Contain("falling back to the previous generation");

        File.Delete(path); // killed between the two renames
        SafeTensorsReader.ReadWithFallback(path, Read, log).Should().Be(1f);
        log.Messages.Should().HaveCount(2);

        File.WriteAllBytes(path, bytes[..10]);
        File.WriteAllBytes(SafeTensorsReader.PreviousGenerationPath(path), bytes[..20]);
        var both = () => SafeTensorsReader.ReadWithFallback(path, Read, log);
        both.Should().Throw<SparsityFormatException>().WithMessage("*previous generation*");

        // Other faults (wrong model, other options) are not hidden by a fallback.
        Write(path, 3f);
        var other = () => SafeTensorsReader.ReadWithFallback<float>(path, _ => throw new ArgumentException("other options"), log);
        other.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void StaleTemporaryFilesOfDeadWritersAreDeletedAndLiveOnesKept()
    {
        var path = Path.Combine(_root, "m.safetensors");
        int dead = 999_999_999; // no such process
        var stale = Path.Combine(_root, $".m.safetensors.{dead}.{Guid.NewGuid():N}.tmp");
        var legacy = Path.Combine(_root, $".m.safetensors.{Guid.NewGuid():N}.tmp");
        var live = Path.Combine(_root, $".m.safetensors.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var otherFile = Path.Combine(_root, $".n.safetensors.{dead}.{Guid.NewGuid():N}.tmp");
        foreach (var f in new[] { stale, legacy, live, otherFile })
        {
            File.WriteAllBytes(f, new byte[100]);
        }

        Write(path, 1f);
        File.Exists(stale).Should().BeFalse();
        File.Exists(legacy).Should().BeFalse();
        File.Exists(live).Should().BeTrue("a write of a running process is not stale");
        File.Exists(otherFile).Should().BeTrue("only the target's own temporaries are touched");
        Read(path).Should().Be(1f);
    }
}
