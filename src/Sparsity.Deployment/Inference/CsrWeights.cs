using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Inference;

/// <summary>A weight matrix [rows, cols] in compressed sparse rows with float32 values, and an optional bias.</summary>
internal sealed class CsrWeights
{
    public CsrWeights(int rows, int cols, int[] rowPtr, int[] colIdx, float[] values, float[]? bias)
    {
        Rows = rows;
        Cols = cols;
        RowPtr = rowPtr;
        ColIdx = colIdx;
        Values = values;
        Bias = bias;
        IsFull = Kept == (long)rows * cols;
        Sliced = SlicedEllWeights.FromCsr(this);
    }

    /// <summary>Every weight is kept (the batch-1 kernel then reads rows with contiguous loads).</summary>
    public bool IsFull { get; }

    /// <summary>The same weights in sliced ELLPACK, for the batch-1 kernel.</summary>
    public SlicedEllWeights Sliced { get; }

    public int Rows { get; }

    public int Cols { get; }

    public int[] RowPtr { get; }

    public int[] ColIdx { get; }

    public float[] Values { get; }

    public float[]? Bias { get; }

    /// <summary>Stored weights.</summary>
    public int Kept => Values.Length;

    /// <summary>
    /// Copies a float32 weight [rows, cols] (any device), an optional bias [rows] and an optional bool mask into CSR;
    /// without a mask the non-zero weights are kept. The caller has validated shapes and dtypes.
    /// </summary>
    public static CsrWeights FromTensors(Tensor weight, Tensor? bias, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var w = weight.detach().cpu().contiguous();
        var m = (mask is null ? w.ne(0) : mask.cpu()).to(ScalarType.Byte).contiguous();
        var b = bias is null ? null : MemoryMarshal.Cast<byte, float>(bias.detach().cpu().contiguous().bytes).ToArray();
        return FromDense((int)w.shape[0], (int)w.shape[1], MemoryMarshal.Cast<byte, float>(w.bytes), m.bytes, b);
    }

    /// <summary>Builds CSR from a dense row-major weight and a 0/1 mask of the same length (kept entries only).</summary>
    public static CsrWeights FromDense(int rows, int cols, ReadOnlySpan<float> weight, ReadOnlySpan<byte> mask, float[]? bias)
    {
        var rowPtr = new int[rows + 1];
        int kept = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            kept += mask[i] != 0 ? 1 : 0;
        }

        var colIdx = new int[kept];
        var values = new float[kept];
        int k = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                if (mask[i] != 0)
                {
                    colIdx[k] = c;
                    values[k] = weight[i];
                    k++;
                }
            }

            rowPtr[r + 1] = k;
        }

        return new CsrWeights(rows, cols, rowPtr, colIdx, values, bias);
    }
}
