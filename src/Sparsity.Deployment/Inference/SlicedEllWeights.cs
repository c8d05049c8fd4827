namespace Sparsity.Deployment.Inference;

/// <summary>
/// The kept weights of a CSR matrix in sliced ELLPACK with slices of 8 rows (SELL-8-σ with σ = all rows,
/// Kreutzer et al., SIAM J. Sci. Comput. 36(5), 2014): rows are sorted by kept count (longest first) and taken
/// eight at a time; a slice stores, for k = 0 … width − 1, the k-th column index and value of each of its eight
/// rows (zeros past a row's end). The batch-1 kernel then computes eight rows per vector — one gather and one
/// FMA per k, no horizontal sum — instead of one row at a time, whose short rows leave the gather's latency
/// exposed. Sorting keeps the padding small (rows in a slice have nearly equal counts).
/// </summary>
internal sealed class SlicedEllWeights
{
    /// <summary>Rows per slice: one AVX2 vector of float32.</summary>
    public const int SliceRows = 8;

    private SlicedEllWeights(int slices, int[] start, int[] width, int[] colIdx, float[] values, float[] bias, int[] rowOf)
    {
        Slices = slices;
        Start = start;
        Width = width;
        ColIdx = colIdx;
        Values = values;
        Bias = bias;
        RowOf = rowOf;
    }

    /// <summary>Number of slices, ⌈rows / 8⌉.</summary>
    public int Slices { get; }

    /// <summary>Offset of each slice's first entry in <see cref="ColIdx"/> and <see cref="Values"/>.</summary>
    public int[] Start { get; }

    /// <summary>Entries per row in each slice (its longest row's kept count).</summary>
    public int[] Width { get; }

    /// <summary>Column indices, slice by slice, k-major (8 per k).</summary>
    public int[] ColIdx { get; }

    /// <summary>Values, laid out as <see cref="ColIdx"/>; 0 for padding.</summary>
    public float[] Values { get; }

    /// <summary>Bias of each slot (8 per slice; 0 for padding rows or no bias).</summary>
    public float[] Bias { get; }

    /// <summary>The original row of each slot, −1 for padding rows.</summary>
    public int[] RowOf { get; }

    /// <summary>Entries stored, padding included.</summary>
    public int Stored => Values.Length;

    /// <summary>Builds the sliced layout of <paramref name="csr"/>.</summary>
    public static SlicedEllWeights FromCsr(CsrWeights csr)
    {
        int rows = csr.Rows, slices = (rows + SliceRows - 1) / SliceRows;
        var order = Enumerable.Range(0, rows).OrderByDescending(r => csr.RowPtr[r + 1] - csr.RowPtr[r]).ThenBy(r => r).ToArray();
        var rowOf = Enumerable.Repeat(-1, slices * SliceRows).ToArray();
        order.CopyTo(rowOf, 0);
        var start = new int[slices + 1];
        var width = new int[slices];
        for (int s = 0; s < slices; s++)
        {
            int r = rowOf[s * SliceRows]; // the slice's longest row comes first
            width[s] = csr.RowPtr[r + 1] - csr.RowPtr[r];
            start[s + 1] = start[s] + width[s] * SliceRows;
        }

        var colIdx = new int[start[slices]];
        var values = new float[start[slices]];
        var bias = new float[slices * SliceRows];
        for (int slot = 0; slot < rowOf.Length; slot++)
        {
            int r = rowOf[slot];
            if (r < 0)
            {
                continue;
            }

            int s = slot / SliceRows, lane = slot % SliceRows, begin = csr.RowPtr[r];
            for (int k = 0; k < csr.RowPtr[r + 1] - begin; k++)
            {
                colIdx[start[s] + k * SliceRows + lane] = csr.ColIdx[begin + k];
                values[start[s] + k * SliceRows + lane] = csr.Values[begin + k];
            }

            bias[slot] = csr.Bias?[r] ?? 0f;
        }

        return new SlicedEllWeights(slices, start, width, colIdx, values, bias, rowOf);
    }
}
