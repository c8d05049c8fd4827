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
    }

    public int Rows { get; }

    public int Cols { get; }

    public int[] RowPtr { get; }

    public int[] ColIdx { get; }

    public float[] Values { get; }

    public float[]? Bias { get; }

    public int Kept => Values.Length;

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
