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
/// Method: a sample of n/64 scores, between 4,096 and 65,536, in evenly spaced runs of 16 consecutive ones, brackets the k-th largest (ranks 6 binomial standard
/// deviations plus 2 either side, as in <see cref="TopKSelection.KthLargest"/>); one parallel pass writes every
/// layer's mask as s &gt; upper bracket, counts it, and gathers the scores between the brackets with their
/// positions (≈ 1.4 % at 90 % sparsity); a histogram selection over that band (<see cref="BandSelection"/>) gives the
/// threshold t, and the band's scores above t, then the first ones equal to t in sequence order, are added to
/// the masks. The scores are read once and the masks written once. When the exact counts show that the brackets
/// missed (an adversarial order), every score is gathered instead, so the result is exact.
/// Applies to contiguous float32 or float64 CPU tensors, all of one dtype (<see cref="Supports"/>).
/// </remarks>
internal static class CpuTopKSelection
{
    private const int MaxSampleSize = 1 << 16;
    private const int MinSampleSize = 1 << 12;
    private const int SampleRun = 16;
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

    /// <summary>The scores of one chunk that fall between the brackets, with their positions inside the layer, in order.</summary>
    private sealed class Band<T>(int capacity)
    {
        public T[] Values = new T[capacity];
        public int[] Positions = new int[capacity];
        public int Count;

        public void Add(T value, int position)
        {
            if (Count == Values.Length)
            {
                Array.Resize(ref Values, Math.Max(16, Count * 2));
                Array.Resize(ref Positions, Values.Length);
            }

            Values[Count] = value;
            Positions[Count++] = position;
        }
    }

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

            if (k == 0 || k == n)
            {
                for (int l = 0; l < layers.Count; l++)
                {
                    masks[l].fill_(k == n);
                    kept[l] = k == n ? layers[l].numel() : 0;
                }

                return masks;
            }

            var chunks = Chunks(layers);
            int threads = Math.Max(1, get_num_threads());
            var (lower, upper) = Brackets<T>(layers, n, k);
            var (above, bands) = Scan(layers, masks, chunks, lower, upper, threads);
            long needed = k - above.Sum();                      // rank of t among the band, from the top
            if (needed < 1 || needed > bands.Sum(b => (long)b.Count))
            {
                (above, bands) = Scan(layers, masks, chunks, T.NegativeInfinity, T.PositiveInfinity, threads);
                needed = k - above.Sum();
            }

            var (t, greater) = BandSelection.KthLargest(bands.Select(b => new ArraySegment<T>(b.Values, 0, b.Count)).ToArray(), needed);
            long neededTies = needed - greater;
            for (int c = 0; c < chunks.Length; c++)
            {
                kept[chunks[c].Layer] += above[c];
            }

            // The band's scores in sequence order: those above t are kept, and the first neededTies equal to t.
            for (int c = 0; c < chunks.Length; c++)
            {
                var band = bands[c];
                var m = masks[chunks[c].Layer].bytes;
                int offset = chunks[c].Start;
                long add = 0;
                for (int j = 0; j < band.Count; j++)
                {
                    var v = band.Values[j];
                    if (v > t || (v == t && neededTies-- > 0))
                    {
                        m[offset + band.Positions[j]] = 1;
                        add++;
                    }
                }

                kept[chunks[c].Layer] += add;
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

    /// <summary>Brackets [lower, upper] that hold the k-th largest score with high probability (infinite when the sequence is small).</summary>
    private static (T Lower, T Upper) Brackets<T>(IReadOnlyList<Tensor> layers, long n, long k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T lower = T.NegativeInfinity, upper = T.PositiveInfinity;
        int size = (int)Math.Clamp(n / 64 / SampleRun * SampleRun, MinSampleSize, MaxSampleSize);
        if (n > 4L * size)
        {
            var sample = Sample<T>(layers, n, size);
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

        return (lower, upper);
    }

    /// <summary>
    /// <paramref name="size"/> scores in evenly spaced runs of <see cref="SampleRun"/> consecutive ones: a run is
    /// one cache line of float32 scores, so the sample costs a sixteenth of the cache misses of single scores.
    /// </summary>
    private static T[] Sample<T>(IReadOnlyList<Tensor> layers, long n, int size)
        where T : unmanaged
    {
        int runs = size / SampleRun;
        long stride = n / runs;
        var sample = new T[size];
        int layer = 0;
        long offset = 0, layerSize = layers[0].numel();
        var s = Scores<T>(layers[0]);
        for (int r = 0; r < runs; r++)
        {
            for (int j = 0; j < SampleRun; j++)
            {
                long index = (r * stride) + j;
                while (index >= offset + layerSize)
                {
                    offset += layerSize;
                    layer++;
                    layerSize = layers[layer].numel();
                    s = Scores<T>(layers[layer]);
                }

                sample[(r * SampleRun) + j] = s[(int)(index - offset)];
            }
        }

        return sample;
    }

    /// <summary>
    /// One parallel pass: writes every mask as m = (s &gt; upper), counts those per chunk, and gathers each chunk's
    /// scores in [lower, upper] with their positions.
    /// </summary>
    private static (long[] Above, Band<T>[] Bands) Scan<T>(IReadOnlyList<Tensor> layers, Tensor[] masks, Chunk[] chunks, T lower, T upper, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var above = new long[chunks.Length];
        var bands = new Band<T>[chunks.Length];
        Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            var chunk = chunks[c];
            var s = Scores<T>(layers[chunk.Layer]).Slice(chunk.Start, chunk.Length);
            var m = masks[chunk.Layer].bytes.Slice(chunk.Start, chunk.Length);
            var band = new Band<T>(T.IsInfinity(lower) && T.IsInfinity(upper) ? chunk.Length : 1 + (chunk.Length / 32));
            above[c] = ScanChunk(s, m, lower, upper, band);
            bands[c] = band;
        });

        return (above, bands);
    }

    private static long ScanChunk<T>(ReadOnlySpan<T> s, Span<byte> m, T lower, T upper, Band<T> band)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long above = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vlo = Vector256.Create(lower);
            var vhi = Vector256.Create(upper);
            ref T start = ref MemoryMarshal.GetReference(s);
            ref byte mask = ref MemoryMarshal.GetReference(m);
            for (; i + 8 <= s.Length; i += 8)
            {
                var (greater, atLeastLower) = Bits8(ref start, i, vhi, vlo);
                uint inBand = atLeastLower & ~greater;
                above += BitOperations.PopCount(greater);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref mask, i), ByteSpread[greater]);
                while (inBand != 0)
                {
                    int j = i + BitOperations.TrailingZeroCount(inBand);
                    band.Add(s[j], j);
                    inBand &= inBand - 1;
                }
            }
        }

        for (; i < s.Length; i++)
        {
            bool keep = s[i] > upper;
            m[i] = keep ? (byte)1 : (byte)0;
            if (keep)
            {
                above++;
            }
            else if (s[i] >= lower)
            {
                band.Add(s[i], i);
            }
        }

        return above;
    }

    /// <summary>For the 8 scores from <paramref name="i"/>: the bits of s &gt; upper and of s ≥ lower.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (uint Greater, uint AtLeastLower) Bits8<T>(ref T start, int i, Vector256<T> upper, Vector256<T> lower)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector256<T>.Count == 8)
        {
            var v = Vector256.LoadUnsafe(ref start, (nuint)i);
            return (Vector256.GreaterThan(v, upper).ExtractMostSignificantBits(), Vector256.GreaterThanOrEqual(v, lower).ExtractMostSignificantBits());
        }

        var a = Vector256.LoadUnsafe(ref start, (nuint)i);
        var b = Vector256.LoadUnsafe(ref start, (nuint)(i + 4));
        return (Vector256.GreaterThan(a, upper).ExtractMostSignificantBits() | (Vector256.GreaterThan(b, upper).ExtractMostSignificantBits() << 4),
            Vector256.GreaterThanOrEqual(a, lower).ExtractMostSignificantBits() | (Vector256.GreaterThanOrEqual(b, lower).ExtractMostSignificantBits() << 4));
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
