using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sparsity.Deployment.Inference;

/// <summary>
/// Managed kernels for y = W x + b with W in CSR (rows = output features). Two layouts:
/// <see cref="RowGather"/> computes eight rows per vector from the sliced ELLPACK copy and gathers the inputs
/// they need (FMA, one kept weight per row and step) — the batch-1 kernel; <see cref="TransposedBatch"/> works on the transposed
/// input Xᵀ [in, B] and, for every kept weight, adds v · Xᵀ[c, :] to Yᵀ[r, :] in registers, eight examples per
/// vector and eight vectors per pass (an outer-product form whose inner loop is contiguous) — the batched kernel.
/// The kernels skip tiered compilation (AggressiveOptimization): a deployed model's first calls run optimised code.
/// </summary>
internal static unsafe class CsrKernels
{
    /// <summary>Turns off the AVX2 paths (tests compare the portable fallback with them).</summary>
    internal static bool DisableIntrinsics { get; set; }

    private static bool UseAvx2 => !DisableIntrinsics && Avx2.IsSupported && Fma.IsSupported;


    /// <summary>
    /// Y[n, :] = W X[n, :] + b for n in [0, batch); X is [batch, cols], Y is [batch, rows]; with
    /// <paramref name="relu"/>, Y = max(0, W X + b) (the fused activation of <see cref="SparseMlp"/>). With AVX2 a
    /// sparse matrix is read in its sliced layout (<see cref="SlicedGather"/>) and a full one (every weight kept)
    /// row by row with contiguous loads; without AVX2 a scalar loop walks the CSR rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowGather(CsrWeights w, float* x, float* y, int batch, bool relu = false)
    {
        for (int n = 0; n < batch; n++)
        {
            float* xn = x + (long)n * w.Cols, yn = y + (long)n * w.Rows;
            if (UseAvx2 && !w.IsFull)
            {
                SlicedGather(w.Sliced, xn, yn, relu);
            }
            else if (UseAvx2)
            {
                FullRows(w, xn, yn, relu);
            }
            else
            {
                ScalarRows(w, xn, yn, relu);
            }
        }
    }

    /// <summary>y = W x + b (and the ReLU) for a matrix that keeps every weight: four accumulators of eight per row.</summary>
    private static void FullRows(CsrWeights w, float* x, float* y, bool relu)
    {
        int cols = w.Cols;
        fixed (float* values = w.Values)
        fixed (float* bias = w.Bias)
        {
            for (int r = 0; r < w.Rows; r++)
            {
                float* row = values + (long)r * cols;
                Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                int c = 0;
                for (; c + 32 <= cols; c += 32)
                {
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(row + c), Avx.LoadVector256(x + c), a0);
                    a1 = Fma.MultiplyAdd(Avx.LoadVector256(row + c + 8), Avx.LoadVector256(x + c + 8), a1);
                    a2 = Fma.MultiplyAdd(Avx.LoadVector256(row + c + 16), Avx.LoadVector256(x + c + 16), a2);
                    a3 = Fma.MultiplyAdd(Avx.LoadVector256(row + c + 24), Avx.LoadVector256(x + c + 24), a3);
                }

                for (; c + 8 <= cols; c += 8)
                {
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(row + c), Avx.LoadVector256(x + c), a0);
                }

                float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
                for (; c < cols; c++)
                {
                    sum += row[c] * x[c];
                }

                sum = w.Bias is null ? sum : sum + bias[r];
                y[r] = relu && sum < 0f ? 0f : sum;
            }
        }
    }

    /// <summary>The portable kernel: y = W x + b (and the ReLU) walking the CSR rows.</summary>
    private static void ScalarRows(CsrWeights w, float* x, float* y, bool relu)
    {
        fixed (int* rowPtr = w.RowPtr)
        fixed (int* colIdx = w.ColIdx)
        fixed (float* values = w.Values)
        fixed (float* bias = w.Bias)
        {
            for (int r = 0; r < w.Rows; r++)
            {
                float sum = 0f;
                for (int j = rowPtr[r]; j < rowPtr[r + 1]; j++)
                {
                    sum += values[j] * x[colIdx[j]];
                }

                sum = w.Bias is null ? sum : sum + bias[r];
                y[r] = relu && sum < 0f ? 0f : sum;
            }
        }
    }

    /// <summary>
    /// y = W x + b for one example with W in sliced ELLPACK: eight rows per vector, one gather and one FMA per
    /// entry column, two accumulators to hide the FMA latency; with <paramref name="relu"/>, y = max(0, W x + b).
    /// The gather is eight scalar loads, not the AVX2 gather instruction: on this project's build machine (AMD EPYC,
    /// family 26) the instruction took 10.2 µs for a 784×300 layer at 10 % density and the loads 6.3 µs (docs/deployment.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SlicedGather(SlicedEllWeights w, float* x, float* y, bool relu)
    {
        fixed (int* colIdx = w.ColIdx)
        fixed (float* values = w.Values)
        fixed (float* bias = w.Bias)
        fixed (int* rowOf = w.RowOf)
        {
            float* lanes = stackalloc float[SlicedEllWeights.SliceRows];
            for (int s = 0; s < w.Slices; s++)
            {
                int* ci = colIdx + w.Start[s];
                float* vi = values + w.Start[s];
                int width = w.Width[s], k = 0;
                var a0 = Avx.LoadVector256(bias + s * SlicedEllWeights.SliceRows);
                var a1 = Vector256<float>.Zero;
                for (; k + 2 <= width; k += 2)
                {
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(vi + k * 8), Gather8(x, ci + k * 8), a0);
                    a1 = Fma.MultiplyAdd(Avx.LoadVector256(vi + k * 8 + 8), Gather8(x, ci + k * 8 + 8), a1);
                }

                if (k < width)
                {
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(vi + k * 8), Gather8(x, ci + k * 8), a0);
                }

                var sum = Avx.Add(a0, a1);
                if (relu)
                {
                    sum = Avx.Max(Vector256<float>.Zero, sum); // NaN stays NaN, as torch.relu
                }

                sum.Store(lanes);
                int* slot = rowOf + s * SlicedEllWeights.SliceRows;
                for (int lane = 0; lane < SlicedEllWeights.SliceRows; lane++)
                {
                    if (slot[lane] >= 0)
                    {
                        y[slot[lane]] = lanes[lane];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Yᵀ = W Xᵀ + b on transposed operands: <paramref name="xt"/> is [cols, stride], <paramref name="yt"/> is
    /// [rows, stride], <paramref name="stride"/> a multiple of 8 (≥ batch; the padding columns are computed too).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposedBatch(CsrWeights w, float* xt, float* yt, int stride)
    {
        fixed (int* rowPtr = w.RowPtr)
        fixed (int* colIdx = w.ColIdx)
        fixed (float* values = w.Values)
        fixed (float* bias = w.Bias)
        {
            for (int r = 0; r < w.Rows; r++)
            {
                int begin = rowPtr[r], end = rowPtr[r + 1];
                var b0 = Vector256.Create(w.Bias is null ? 0f : bias[r]);
                float* yr = yt + (long)r * stride;
                int c = 0;
                for (; c + 64 <= stride; c += 64)
                {
                    Block8(xt, stride, c, colIdx, values, begin, end, b0, yr);
                }

                for (; c < stride; c += 8)
                {
                    var acc = b0;
                    for (int j = begin; j < end; j++)
                    {
                        acc = MulAdd(Vector256.Create(values[j]), Vector256.Load(xt + (long)colIdx[j] * stride + c), acc);
                    }

                    acc.Store(yr + c);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8(float* xt, int stride, int c, int* colIdx, float* values, int begin, int end, Vector256<float> b0, float* yr)
    {
        Vector256<float> a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0, a6 = b0, a7 = b0;
        for (int j = begin; j < end; j++)
        {
            var v = Vector256.Create(values[j]);
            float* row = xt + (long)colIdx[j] * stride + c;
            a0 = MulAdd(v, Vector256.Load(row), a0);
            a1 = MulAdd(v, Vector256.Load(row + 8), a1);
            a2 = MulAdd(v, Vector256.Load(row + 16), a2);
            a3 = MulAdd(v, Vector256.Load(row + 24), a3);
            a4 = MulAdd(v, Vector256.Load(row + 32), a4);
            a5 = MulAdd(v, Vector256.Load(row + 40), a5);
            a6 = MulAdd(v, Vector256.Load(row + 48), a6);
            a7 = MulAdd(v, Vector256.Load(row + 56), a7);
        }

        a0.Store(yr + c);
        a1.Store(yr + c + 8);
        a2.Store(yr + c + 16);
        a3.Store(yr + c + 24);
        a4.Store(yr + c + 32);
        a5.Store(yr + c + 40);
        a6.Store(yr + c + 48);
        a7.Store(yr + c + 56);
    }

    /// <summary>x[idx[0]], …, x[idx[7]] as one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Gather8(float* x, int* idx) =>
        Vector256.Create(x[idx[0]], x[idx[1]], x[idx[2]], x[idx[3]], x[idx[4]], x[idx[5]], x[idx[6]], x[idx[7]]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        UseAvx2 ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    /// <summary>dst[j, i] = src[i, j] for src [rows, cols] (row stride <paramref name="srcStride"/>), dst row stride <paramref name="dstStride"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* src, int rows, int cols, int srcStride, float* dst, int dstStride)
    {
        const int Tile = 32;
        for (int i0 = 0; i0 < rows; i0 += Tile)
        {
            int i1 = Math.Min(rows, i0 + Tile);
            for (int j0 = 0; j0 < cols; j0 += Tile)
            {
                int j1 = Math.Min(cols, j0 + Tile);
                for (int i = i0; i < i1; i++)
                {
                    for (int j = j0; j < j1; j++)
                    {
                        dst[(long)j * dstStride + i] = src[(long)i * srcStride + j];
                    }
                }
            }
        }
    }
}
