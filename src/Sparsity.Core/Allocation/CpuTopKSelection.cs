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
/// deviations plus 2 either side, as in <see cref="TopKSelection.KthLargest"/>) and estimates it (t̂, the sample's own quantile). One parallel pass writes every
/// layer's mask as s &gt; t̂, counts the scores above the upper bracket, and gathers the scores between the brackets with their
/// positions (≈ 1.4 % at 90 % sparsity); a selection over that band (<see cref="BandSelection"/>) gives the exact
/// threshold t, and only the band's scores on the wrong side of t̂ (those between t and t̂), then the first ones equal to t in sequence order,
/// are rewritten. The scores are read once and the masks written once. When the exact counts show that the brackets
/// missed (an adversarial order), every score is gathered instead, so the result is exact.
/// The masks are views of one allocation (freed when the last of them is disposed). Applies to contiguous float32 or float64 CPU tensors, all of one dtype (<see cref="Supports"/>).
/// </remarks>
internal static class CpuTopKSelection
{
    private const int MaxSampleSize = 1 << 16;
    private const int MinSampleSize = 1 << 12;
    private const int SampleRun = 16;
    private const int ChunkSize = 1 << 19;
    private const int ParallelBand = 1 << 16;

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

    /// <summary>Bounds that hold the k-th largest score with high probability, the sample's estimate of it, and the expected fraction of scores between the bounds.</summary>
    private readonly record struct Brackets<T>(T Lower, T Estimate, T Upper, double BandFraction)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>No bounds: every score is in the band and no mask is written by the scan.</summary>
        public static Brackets<T> Everything => new(T.NegativeInfinity, T.PositiveInfinity, T.PositiveInfinity, 1.0);
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
            using (var block = empty(n, ScalarType.Bool)) // one allocation; the masks are views of it
            {
                long offset = 0;
                for (int l = 0; l < layers.Count; l++)
                {
                    masks[l] = block.narrow(0, offset, layers[l].numel()).view(layers[l].shape);
                    offset += layers[l].numel();
                }
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
            var brackets = Bracket<T>(layers, n, k);
            var arena = Arena<T>(chunks, brackets);
            try
            {
                var (above, bands) = Scan(layers, masks, chunks, brackets, arena, threads);
                long needed = k - above.Sum();                      // rank of t among the band, from the top
                long bandTotal = bands.Sum(b => (long)b.Count);
                if (needed < 1 || needed > bandTotal)
                {
                    brackets = Brackets<T>.Everything;
                    arena.Dispose();
                    arena = Arena<T>(chunks, brackets);
                    (above, bands) = Scan(layers, masks, chunks, brackets, arena, threads);
                    needed = k - above.Sum();
                    bandTotal = bands.Sum(b => (long)b.Count);
                }

                int bandThreads = bandTotal >= ParallelBand ? threads : 1; // a small band is not worth waking the pool
                var (t, greater) = BandSelection.KthLargest(bands.Select(b => b.Values).ToArray(), needed, bandThreads);
                var added = Correct(masks, chunks, bands, brackets.Estimate, t, neededTies: needed - greater, bandThreads);
                for (int c = 0; c < chunks.Length; c++)
                {
                    kept[chunks[c].Layer] += above[c] + added[c];
                }
            }
            finally
            {
                arena.Dispose();
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

    /// <summary>
    /// Turns the band's masks from s &gt; <paramref name="estimate"/> (written by the scan) into s &gt; <paramref name="t"/>,
    /// chunks in parallel, writing only the scores between the two; then keeps the first <paramref name="neededTies"/>
    /// scores equal to t in sequence order. Returns how many band scores each chunk keeps.
    /// </summary>
    private static long[] Correct<T>(Tensor[] masks, Chunk[] chunks, Band<T>[] bands, T estimate, T t, long neededTies, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var added = new long[chunks.Length];
        var ties = new long[chunks.Length];
        Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            // Branch-free over blocks of 8 (the band's order around t is random): count, and write where s > t and s > t̂ differ.
            var values = bands[c].Values.AsSpan();
            var positions = bands[c].Positions.AsSpan();
            var m = masks[chunks[c].Layer].bytes.Slice(chunks[c].Start, chunks[c].Length);
            ref T start = ref MemoryMarshal.GetReference(values);
            var vt = Vector256.Create(t);
            var ve = Vector256.Create(estimate);
            int j = 0;
            for (; Vector256.IsHardwareAccelerated && j + 8 <= values.Length; j += 8)
            {
                uint keep = VectorCompare.Greater8(ref start, j, vt, orEqual: false);
                added[c] += BitOperations.PopCount(keep);
                ties[c] += BitOperations.PopCount(VectorCompare.Greater8(ref start, j, vt, orEqual: true) & ~keep);
                uint differ = keep ^ VectorCompare.Greater8(ref start, j, ve, orEqual: false);
                while (differ != 0)
                {
                    int bit = BitOperations.TrailingZeroCount(differ);
                    m[positions[j + bit]] = (byte)((keep >> bit) & 1);
                    differ &= differ - 1;
                }
            }

            for (; j < values.Length; j++)
            {
                var v = values[j];
                bool keep = v > t;
                if (keep != v > estimate)
                {
                    m[positions[j]] = keep ? (byte)1 : (byte)0;
                }

                added[c] += keep ? 1 : 0;
                ties[c] += v == t ? 1 : 0;
            }
        });

        for (int c = 0; c < chunks.Length && neededTies > 0; c++)
        {
            if (ties[c] == 0)
            {
                continue;
            }

            var values = bands[c].Values;
            var positions = bands[c].Positions;
            var m = masks[chunks[c].Layer].bytes.Slice(chunks[c].Start, chunks[c].Length);
            for (int j = 0; j < values.Count && neededTies > 0; j++)
            {
                if (values[j] == t)
                {
                    m[positions[j]] = 1;
                    added[c]++;
                    neededTies--;
                }
            }
        }

        return added;
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

    /// <summary>
    /// Brackets [lower, upper] that hold the k-th largest score with high probability, and the sample's estimate of it
    /// between them (<see cref="Brackets{T}.Everything"/> when the sequence is small).
    /// </summary>
    private static Brackets<T> Bracket<T>(IReadOnlyList<Tensor> layers, long n, long k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = (int)Math.Clamp(n / 64 / SampleRun * SampleRun, MinSampleSize, MaxSampleSize);
        if (n <= 4L * size)
        {
            return Brackets<T>.Everything;
        }

        var rented = ScratchArrays.Rent<T>(size);
        try
        {
            var sample = rented.AsSpan(0, size);
            Sample(layers, n, sample);
            var (lower, estimate, upper, fraction) = Quickselect.Brackets(sample, q: (double)(n - k) / n); // q: the fraction below the k-th largest
            return new Brackets<T>(lower, estimate, upper, fraction);
        }
        finally
        {
            ScratchArrays.Return(rented);
        }
    }

    /// <summary>
    /// <paramref name="sample"/>'s length of scores in evenly spaced runs of <see cref="SampleRun"/> consecutive ones: a
    /// run is one cache line of float32 scores, so the sample costs a sixteenth of the cache misses of single scores.
    /// </summary>
    private static void Sample<T>(IReadOnlyList<Tensor> layers, long n, Span<T> sample)
        where T : unmanaged
    {
        int runs = sample.Length / SampleRun;
        long stride = n / runs;
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
    }

    /// <summary>A chunk's share of the band arrays: the expected fraction between the brackets, with a quarter to spare.</summary>
    private static int BandCapacity<T>(Chunk chunk, Brackets<T> brackets)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        (int)Math.Min(chunk.Length, (chunk.Length * brackets.BandFraction * 1.25) + 16);

    private static BandArena<T> Arena<T>(Chunk[] chunks, Brackets<T> brackets)
        where T : unmanaged, IFloatingPointIeee754<T> => new(chunks.Sum(c => (long)BandCapacity(c, brackets)));

    /// <summary>
    /// One parallel pass: writes every mask as m = (s &gt; estimate), counts per chunk the scores above the upper bracket,
    /// and gathers each chunk's scores between the brackets with their positions.
    /// </summary>
    private static (long[] Above, Band<T>[] Bands) Scan<T>(IReadOnlyList<Tensor> layers, Tensor[] masks, Chunk[] chunks, Brackets<T> brackets, BandArena<T> arena, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var above = new long[chunks.Length];
        var bands = new Band<T>[chunks.Length];
        int offset = 0;
        for (int c = 0; c < chunks.Length; c++)
        {
            int capacity = BandCapacity(chunks[c], brackets);
            bands[c] = new Band<T>(arena.Values, arena.Positions, offset, capacity);
            offset += capacity;
        }

        Parallel.For(0, chunks.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            var chunk = chunks[c];
            var s = Scores<T>(layers[chunk.Layer]).Slice(chunk.Start, chunk.Length);
            var m = masks[chunk.Layer].bytes.Slice(chunk.Start, chunk.Length);
            above[c] = ScanChunk(s, m, brackets, bands[c]);
        });

        return (above, bands);
    }

    private static long ScanChunk<T>(ReadOnlySpan<T> s, Span<byte> m, Brackets<T> brackets, Band<T> band)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long above = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lower = Vector256.Create(brackets.Lower);
            var estimate = Vector256.Create(brackets.Estimate);
            var upper = Vector256.Create(brackets.Upper);
            ref T start = ref MemoryMarshal.GetReference(s);
            ref byte mask = ref MemoryMarshal.GetReference(m);
            for (; i + 8 <= s.Length; i += 8)
            {
                uint aboveUpper = VectorCompare.Greater8(ref start, i, upper, orEqual: false);
                uint inBand = VectorCompare.Greater8(ref start, i, lower, orEqual: true) & ~aboveUpper;
                above += BitOperations.PopCount(aboveUpper);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref mask, i), VectorCompare.ByteSpread[VectorCompare.Greater8(ref start, i, estimate, orEqual: false)]);
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
            m[i] = s[i] > brackets.Estimate ? (byte)1 : (byte)0;
            if (s[i] > brackets.Upper)
            {
                above++;
            }
            else if (s[i] >= brackets.Lower)
            {
                band.Add(s[i], i);
            }
        }

        return above;
    }
}
