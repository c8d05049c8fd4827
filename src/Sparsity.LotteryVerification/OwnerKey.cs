using System.Security.Cryptography;

namespace Sparsity.LotteryVerification;

/// <summary>
/// An owner's secret key: exactly 32 bytes (256 bits), the natural key size of HMAC-SHA256. Every keyed
/// signature position, target bit and trigger input is derived from it, so the key must be committed (for example
/// its <see cref="Fingerprint"/> timestamped) before a dispute (docs/statistics.md#false-positives-of-a-signature).
/// </summary>
public sealed class OwnerKey
{
    /// <summary>Required key length in bytes.</summary>
    public const int Length = 32;

    private readonly byte[] _bytes;

    /// <summary>Creates a key from its bytes (copied).</summary>
    /// <param name="bytes">Exactly <see cref="Length"/> bytes.</param>
    /// <exception cref="ArgumentException">The key is not 32 bytes long.</exception>
    public OwnerKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException(
                $"An owner key must be exactly {Length} bytes (256 bits) for HMAC-SHA256; got {bytes.Length}. " +
                "Use OwnerKey.Generate() or OwnerKey.FromPassphrase(...).", nameof(bytes));
        }

        _bytes = bytes.ToArray();
    }

    /// <summary>A copy of the key bytes.</summary>
    public byte[] ToArray() => (byte[])_bytes.Clone();

    /// <summary>Hex SHA-256 of the key: a public commitment that does not reveal the key.</summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(_bytes));

    /// <summary>A fresh random key from the operating system's cryptographic generator.</summary>
    public static OwnerKey Generate() => new(RandomNumberGenerator.GetBytes(Length));

    /// <summary>A key derived from a passphrase with PBKDF2-HMAC-SHA256 (deterministic; for tests and samples).</summary>
    /// <param name="passphrase">Non-empty passphrase.</param>
    /// <param name="salt">Salt string (public).</param>
    public static OwnerKey FromPassphrase(string passphrase, string salt = "Sparsity.LotteryVerification")
    {
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        ArgumentNullException.ThrowIfNull(salt);
        return new OwnerKey(Rfc2898DeriveBytes.Pbkdf2(passphrase, System.Text.Encoding.UTF8.GetBytes(salt), 10_000, HashAlgorithmName.SHA256, Length));
    }

    /// <summary>A keyed pseudo-random stream for one purpose (domain-separated by <paramref name="label"/>).</summary>
    /// <param name="label">Purpose label, for example <c>"positions/layer2.1.conv1.weight"</c>.</param>
    internal KeyedStream Stream(string label) => new(_bytes, label);
}

/// <summary>
/// HMAC-SHA256 in counter mode: block i = HMAC(key, label ‖ 0x00 ‖ i as 8 bytes little-endian). A PRF stream:
/// without the key its output is indistinguishable from uniform random bits.
/// </summary>
internal sealed class KeyedStream
{
    private readonly byte[] _key;
    private readonly byte[] _label;
    private byte[] _block = [];
    private int _used;
    private ulong _counter;

    internal KeyedStream(byte[] key, string label)
    {
        _key = key;
        _label = [.. System.Text.Encoding.UTF8.GetBytes(label), 0];
    }

    internal byte NextByte()
    {
        if (_used >= _block.Length)
        {
            var input = new byte[_label.Length + 8];
            _label.CopyTo(input, 0);
            BitConverter.TryWriteBytes(input.AsSpan(_label.Length), _counter++);
            _block = HMACSHA256.HashData(_key, input);
            _used = 0;
        }

        return _block[_used++];
    }

    internal ulong NextUInt64()
    {
        ulong v = 0;
        for (int i = 0; i < 8; i++)
        {
            v = (v << 8) | NextByte();
        }

        return v;
    }

    internal bool NextBit() => (NextByte() & 1) == 1;

    /// <summary>Uniform integer in [0, n) without modulo bias (rejection sampling).</summary>
    internal long NextBelow(long n)
    {
        if (n <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "The range must be positive.");
        }

        ulong bound = (ulong)n;
        ulong limit = ulong.MaxValue - (ulong.MaxValue % bound);
        ulong v;
        do
        {
            v = NextUInt64();
        }
        while (v >= limit);
        return (long)(v % bound);
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    internal double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary><paramref name="count"/> distinct integers in [0, n), in draw order (Floyd's algorithm when sparse).</summary>
    internal long[] Distinct(long n, int count)
    {
        if (count > n)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Cannot draw {count} distinct positions from {n}.");
        }

        var seen = new HashSet<long>();
        var order = new List<long>(count);
        while (order.Count < count)
        {
            long v = NextBelow(n);
            if (seen.Add(v))
            {
                order.Add(v);
            }
        }

        return [.. order];
    }
}
