using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// Exact top-k over several CPU score tensors taken as one flat sequence (layer order, then flat index
/// inside each layer), computed in C# over the tensors' memory: no concatenation, no sort, masks written in
/// place. The k largest scores are kept; among scores equal to the k-th largest, the lowest positions of
/// the sequence are kept — the rule of <see cref="TopKSelection.KeepTopK(Tensor, long)"/> applied to the concatenation.
/// </summary>
/// <remarks>
/// Method: an evenly strided sample of 65,536 scores brackets the k-th largest (ranks 6 binomial standard
/// deviations plus 2 either side, as in <see cref="TopKSelection.KthLargest"/>); one parallel pass counts the
/// scores above the upper bracket and gathers the ones between the brackets (≈ 1.4 % at 90 % sparsity); a
/// quickselect over that band gives the threshold t and how many of the scores equal to t are needed; a second
/// parallel pass writes every layer's mask (s &gt; t, or s ≥ t when every tie is kept) and counts it; when
/// only some ties are kept, a final scan keeps the first ones in sequence order. When the exact counts show
/// that the brackets missed (an adversarial order), every score is gathered instead, so the result is exact.
/// Applies to contiguous float32 or float64 CPU tensors, all of one dtype (<see cref="Supports"/>).
/// </remarks>
internal static class CpuTopKSelection
{
    private const int SampleSize = 1 << 16;
    private const int ChunkSize = 1 << 19;
    private static readonly ulong[] ByteSpread = BuildByteSpread();

    /// <summary>Whether <paramref name="layers"/> can take the CPU path: non-empty, contiguous CPU tensors of one dtype, float32 or float64.</summary>
    public static bool Supports(IReadOnlyList<Tensor> layers)
    {
        if (layers.Count == 0)
        {
            return false;
        }

        var dtype = layers[0].dtype;
        if (dtype != ScalarType.Float32 && dtype != ScalarType.Float64)
        {
            return false;
        }

        long elementSize = dtype == ScalarType.Float32 ? 4 : 8;
        long total = 0;
        foreach (var t in layers)
        {
            if (t.dtype != dtype || t.device_type != TorchSharp.DeviceType.CPU || !t.is_contiguous() || t.numel() * elementSize > int.MaxValue)
            {
                return false;
            }

            total += t.numel();
        }

        return total <= Array.MaxLength; // the exact fallback gathers every score into one array
    }

    /// <summary>
    /// One bool mask per layer (the layer's shape, caller owns them) keeping exactly <paramref name="k"/>
    /// scores of the sequence; <paramref name="kept"/> receives each layer's kept count.
    /// </summary>
    public static Tensor[] KeepTopK(IReadOnlyList<Tensor> layers, long k, out long[] kept)
    {
        if (!Supports(layers))
        {
            throw new ArgumentException("The CPU top-k needs contiguous float32 or float64 CPU tensors of one dtype.", nameof(layers));
        }

        return layers[0].dtype == ScalarType.Float32 ? Run<float>(layers, k, out kept) : Run<double>(layers, k, out kept);
    }

    private readonly record struct Chunk(int Layer, int Start, int Length);

    private static Tensor[] Run<T>(IReadOnlyList<Tensor> layers, long k, out long[] kept)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long n = layers.Sum(l => l.numel());
        if (k < 0 || k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must lie in [0, {n}].");
        }

        kept = new long[layers.Count];
        var masks = new Tensor[layers.Count];
        try
        {
            for (int l = 0; l < layers.Count; l++)
            {
                masks[l] = empty(layers[l].shape, ScalarType.Bool);
            }

            var chunks = Chunks(layers);
            int threads = Math.Max(1, get_num_threads());
            if (k == 0 || k == n)
            {
                for (int l = 0; l < layers.Count; l++)
                {
                    masks[l].fill_(k == n);
                    kept[l] = k == n ? layers[l].numel() : 0;
                }

                return masks;
            }

            var (t, tieCount, neededTies) = Threshold<T>(layers, chunks, n, k, threads);
            bool allTies = neededTies == tieCount;
            var counts = new long[chunks.Length];
            Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
            {
                var chunk = chunks[c];
                var s = Scores<T>(layers[chunk.Layer]).Slice(chunk.Start, chunk.Length);
                var m = masks[chunk.Layer].bytes.Slice(chunk.Start, chunk.Length);
                counts[c] = WriteMask(s, m, t, allTies);
            });
            for (int c = 0; c < chunks.Length; c++)
            {
                kept[chunks[c].Layer] += counts[c];
            }

            if (!allTies)
            {
                KeepFirstTies(layers, masks, kept, t, neededTies);
            }

            return masks;
        }
        catch
        {
            foreach (var mask in masks)
            {
                mask?.Dispose();
            }

            throw;
        }
    }

    private static Chunk[] Chunks(IReadOnlyList<Tensor> layers)
    {
        var chunks = new List<Chunk>();
        for (int l = 0; l < layers.Count; l++)
        {
            int size = (int)layers[l].numel();
            for (int start = 0; start < size; start += ChunkSize)
            {
                chunks.Add(new Chunk(l, start, Math.Min(ChunkSize, size - start)));
            }
        }

        return [.. chunks];
    }

    private static Span<T> Scores<T>(Tensor layer)
        where T : unmanaged => MemoryMarshal.Cast<byte, T>(layer.bytes);

    /// <summary>The k-th largest t of the sequence, how many scores equal t, and how many of those the top-k keeps.</summary>
    private static (T T, long TieCount, long NeededTies) Threshold<T>(IReadOnlyList<Tensor> layers, Chunk[] chunks, long n, long k, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T lower = T.NegativeInfinity, upper = T.PositiveInfinity;
        bool bracketed = n > 4L * SampleSize;
        if (bracketed)
        {
            var sample = Sample<T>(layers, n);
            long m = sample.Length;
            double q = (double)(n - k) / n;                      // fraction of scores below the k-th largest
            double margin = (6.0 * Math.Sqrt(m * q * (1.0 - q))) + 2.0;
            long lowRank = (long)Math.Floor((q * m) - margin);    // 1-based ranks in the sample
            long highRank = (long)Math.Ceiling((q * m) + margin);
            if (lowRank >= 1)
            {
                lower = Quickselect.Smallest<T>(sample, (int)lowRank);
            }

            if (highRank <= m)
            {
                upper = Quickselect.Smallest<T>(sample, (int)highRank);
            }
        }

        var (above, band) = Gather(layers, chunks, lower, upper, threads);
        long needed = k - above;                                // rank of t among the band, from the top
        if (needed < 1 || needed > band.Length)
        {
            (above, band) = Gather(layers, chunks, T.NegativeInfinity, T.PositiveInfinity, threads);
            needed = k - above;
        }

        var t = Quickselect.Smallest<T>(band, (int)(band.Length - needed + 1));
        long greater = above, equal = 0;
        foreach (var v in band)
        {
            if (v > t)
            {
                greater++;
            }
            else if (v == t)
            {
                equal++;
            }
        }

        return (t, equal, k - greater);
    }

    private static T[] Sample<T>(IReadOnlyList<Tensor> layers, long n)
        where T : unmanaged
    {
        long stride = n / SampleSize;
        var sample = new T[SampleSize];
        int layer = 0;
        long offset = 0, size = layers[0].numel();
        var s = Scores<T>(layers[0]);
        for (int j = 0; j < SampleSize; j++)
        {
            long index = j * stride;
            while (index >= offset + size)
            {
                offset += size;
                layer++;
                size = layers[layer].numel();
                s = Scores<T>(layers[layer]);
            }

            sample[j] = s[(int)(index - offset)];
        }

        return sample;
    }

    /// <summary>One parallel pass: the number of scores above <paramref name="upper"/> and the scores in [lower, upper].</summary>
    private static (long Above, T[] Band) Gather<T>(IReadOnlyList<Tensor> layers, Chunk[] chunks, T lower, T upper, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var above = new long[chunks.Length];
        var bands = new T[chunks.Length][];
        Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            var chunk = chunks[c];
            var s = Scores<T>(layers[chunk.Layer]).Slice(chunk.Start, chunk.Length);
            var buffer = new List<T>();
            above[c] = GatherChunk(s, lower, upper, buffer);
            bands[c] = [.. buffer];
        });

        var band = new T[bands.Sum(b => b.Length)];
        int at = 0;
        foreach (var b in bands)
        {
            b.CopyTo(band, at);
            at += b.Length;
        }

        return (above.Sum(), band);
    }

    private static long GatherChunk<T>(ReadOnlySpan<T> s, T lower, T upper, List<T> band)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long above = 0;
        int i = 0;
        int width = Vector256<T>.Count;
        if (Vector256.IsHardwareAccelerated)
        {
            var vlo = Vector256.Create(lower);
            var vhi = Vector256.Create(upper);
            ref T start = ref MemoryMarshal.GetReference(s);
            for (; i + width <= s.Length; i += width)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                uint greater = Vector256.GreaterThan(v, vhi).ExtractMostSignificantBits();
                uint inBand = Vector256.GreaterThanOrEqual(v, vlo).ExtractMostSignificantBits() & ~greater;
                above += BitOperations.PopCount(greater);
                while (inBand != 0)
                {
                    band.Add(s[i + BitOperations.TrailingZeroCount(inBand)]);
                    inBand &= inBand - 1;
                }
            }
        }

        for (; i < s.Length; i++)
        {
            if (s[i] > upper)
            {
                above++;
            }
            else if (s[i] >= lower)
            {
                band.Add(s[i]);
            }
        }

        return above;
    }

    /// <summary>Writes m = (s &gt; t), or (s ≥ t) when <paramref name="inclusive"/>; returns the kept count.</summary>
    private static long WriteMask<T>(ReadOnlySpan<T> s, Span<byte> m, T t, bool inclusive)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long kept = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vt = Vector256.Create(t);
            ref T start = ref MemoryMarshal.GetReference(s);
            ref byte mask = ref MemoryMarshal.GetReference(m);
            for (; i + 8 <= s.Length; i += 8)
            {
                uint bits = Bits8(ref start, i, vt, inclusive);
                kept += BitOperations.PopCount(bits);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref mask, i), ByteSpread[bits]);
            }
        }

        for (; i < s.Length; i++)
        {
            bool keep = inclusive ? s[i] >= t : s[i] > t;
            m[i] = keep ? (byte)1 : (byte)0;
            kept += keep ? 1 : 0;
        }

        return kept;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Bits8<T>(ref T start, int i, Vector256<T> vt, bool inclusive)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector256<T>.Count == 8)
        {
            var v = Vector256.LoadUnsafe(ref start, (nuint)i);
            return (inclusive ? Vector256.GreaterThanOrEqual(v, vt) : Vector256.GreaterThan(v, vt)).ExtractMostSignificantBits();
        }

        var a = Vector256.LoadUnsafe(ref start, (nuint)i);
        var b = Vector256.LoadUnsafe(ref start, (nuint)(i + 4));
        uint low = (inclusive ? Vector256.GreaterThanOrEqual(a, vt) : Vector256.GreaterThan(a, vt)).ExtractMostSignificantBits();
        uint high = (inclusive ? Vector256.GreaterThanOrEqual(b, vt) : Vector256.GreaterThan(b, vt)).ExtractMostSignificantBits();
        return low | (high << 4);
    }

    /// <summary>Keeps the first <paramref name="needed"/> scores equal to t, in sequence order (layer order, then flat index).</summary>
    private static void KeepFirstTies<T>(IReadOnlyList<Tensor> layers, Tensor[] masks, long[] kept, T t, long needed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int l = 0; l < layers.Count && needed > 0; l++)
        {
            var s = Scores<T>(layers[l]);
            var m = masks[l].bytes;
            for (int i = 0; i < s.Length && needed > 0; i++)
            {
                if (s[i] == t)
                {
                    m[i] = 1;
                    kept[l]++;
                    needed--;
                }
            }
        }
    }

    private static ulong[] BuildByteSpread()
    {
        var table = new ulong[256];
        for (int bits = 0; bits < 256; bits++)
        {
            ulong value = 0;
            for (int b = 0; b < 8; b++)
            {
                value |= (ulong)((bits >> b) & 1) << (8 * b);
            }

            table[bits] = value;
        }

        return table;
    }
}
