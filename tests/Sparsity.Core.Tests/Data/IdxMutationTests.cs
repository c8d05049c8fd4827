using System.Buffers.Binary;
using Sparsity.Data;

namespace Sparsity.Tests.Data;

public sealed class IdxMutationTests
{
    private sealed record Fixture(byte[] Raw, bool Labels);

    private static List<Fixture> Valid() =>
    [
        new(IdxBytes.Raw([3, 4, 5], IdxBytes.Values(60, 256, 1)), Labels: false),
        new(IdxBytes.Raw([1, 28, 28], IdxBytes.Values(784, 256, 2)), Labels: false),
        new(IdxBytes.Raw([7], IdxBytes.Values(7, 10, 3)), Labels: true),
        new(IdxBytes.Raw([40], IdxBytes.Values(40, 10, 4)), Labels: true),
    ];

    private static byte[] MutateRaw(byte[] original, Random rng)
    {
        var bytes = (byte[])original.Clone();
        int ndim = bytes[3];
        switch (rng.Next(7))
        {
            case 0: // flip 1–3 bits anywhere
                for (int i = rng.Next(1, 4); i > 0; i--)
                {
                    bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
                }

                return bytes;
            case 1: // rewrite a magic byte
                bytes[rng.Next(4)] = rng.Next(3) switch { 0 => 0, 1 => (byte)rng.Next(16), _ => (byte)rng.Next(256) };
                return bytes;
            case 2: // truncate
                return bytes[..rng.Next(bytes.Length)];
            case 3: // rewrite a dimension size
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * rng.Next(ndim)), rng.Next(4) switch
                {
                    0 => (uint)rng.Next(100),
                    1 => (uint)rng.NextInt64(uint.MaxValue + 1L),
                    2 => 0u,
                    _ => BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4)) + (uint)rng.Next(-2, 3),
                });
                return bytes;
            case 4: // append bytes
                return [.. bytes, .. IdxBytes.Values(rng.Next(1, 5), 256, rng.Next())];
            case 5: // overwrite a label/data byte with a large value
                bytes[rng.Next(Math.Min(bytes.Length, 4 + 4 * ndim), bytes.Length)] = (byte)rng.Next(256);
                return bytes;
            default: // insert or delete a byte
            {
                int at = rng.Next(bytes.Length);
                return rng.Next(2) == 0
                    ? [.. bytes[..at], (byte)rng.Next(256), .. bytes[at..]]
                    : [.. bytes[..at], .. bytes[(at + 1)..]];
            }
        }
    }

    private static byte[] Mutate(Fixture f, Random rng)
    {
        switch (rng.Next(4))
        {
            case 0:
            case 1: // raw file
                return MutateRaw(f.Raw, rng);
            case 2: // gzip of a mutated file: header faults reach the parser through the decompressor
                return IdxBytes.Gzip(MutateRaw(f.Raw, rng));
            default: // mutate the compressed bytes themselves
            {
                var gz = IdxBytes.Gzip(f.Raw);
                var mutated = MutateRaw(gz, rng);
                if (mutated.Length > 1)
                {
                    mutated[0] = 0x1F; // keep the gzip magic most of the time so the inflater is exercised
                    if (rng.Next(4) != 0) mutated[1] = 0x8B;
                }

                return mutated;
            }
        }
    }

    [Fact]
    public void TenThousandCorruptionsAreReadOrRejectedWithTheFormatException()
    {
        var valid = Valid();
        var rng = new Random(20261129);
        int read = 0, rejected = 0;
        for (int i = 0; i < 10_000; i++)
        {
            var fixture = valid[i % valid.Count];
            var bytes = Mutate(fixture, rng);
            try
            {
                var idx = IdxReader.Read(new MemoryStream(bytes), $"mutation {i}");
                idx.Data.LongLength.Should().Be(idx.Shape.Aggregate(1L, (a, b) => a * b));
                using var t = fixture.Labels ? IdxReader.ToLabels(idx, 10, $"mutation {i}") : IdxReader.ToImages(idx, $"mutation {i}");
                t.numel().Should().Be(idx.Data.LongLength);
                read++;
            }
            catch (SparsityFormatException e)
            {
                e.Message.Should().StartWith($"mutation {i}: ");
                rejected++;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"mutation {i} escaped as {e.GetType().Name}: {e.Message}", e);
            }
        }

        (read + rejected).Should().Be(10_000);
        rejected.Should().BeGreaterThan(3_000, "most corruptions of the header or the gzip stream must be caught");
        read.Should().BeGreaterThan(300, "bit flips in image bytes leave readable files");
    }
}
