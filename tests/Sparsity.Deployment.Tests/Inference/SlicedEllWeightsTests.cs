using Sparsity.Deployment.Inference;

namespace Sparsity.Deployment.Tests.Inference;

public sealed class SlicedEllWeightsTests
{
    [Fact]
    public void Rows_are_sorted_by_kept_count_and_laid_out_eight_per_slice()
    {
        // 10 rows × 4 columns; row r keeps (r % 4) weights, value 10 r + c at column c.
        const int rows = 10, cols = 4;
        var weight = new float[rows * cols];
        var mask = new byte[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < r % 4; c++)
            {
                weight[r * cols + c] = 10 * r + c;
                mask[r * cols + c] = 1;
            }
        }

        var csr = CsrWeights.FromDense(rows, cols, weight, mask, Enumerable.Range(0, rows).Select(r => (float)-r).ToArray());
        var sliced = csr.Sliced;

        // Counts 0,1,2,3,0,1,2,3,0,1: longest first, ties by row: 3, 7 | 2, 6 | 1, 5, 9 | 0, 4, 8.
        sliced.RowOf.Should().Equal(3, 7, 2, 6, 1, 5, 9, 0, 4, 8, -1, -1, -1, -1, -1, -1);
        sliced.Slices.Should().Be(2);
        sliced.Width.Should().Equal(3, 0); // slice 1 holds rows 4 and 8, which keep nothing
        sliced.Start.Should().Equal(0, 24, 24);
        // Slice 0, k = 0: the first kept column of rows 3, 7, 2, 6, 1, 5, 9, 0 (row 0 keeps none: padding).
        sliced.ColIdx.Take(8).Should().Equal(0, 0, 0, 0, 0, 0, 0, 0);
        sliced.Values.Take(8).Should().Equal(30f, 70f, 20f, 60f, 10f, 50f, 90f, 0f);
        // k = 2: only rows 3 and 7 keep a third weight (column 2).
        sliced.ColIdx.Skip(16).Take(8).Should().Equal(2, 2, 0, 0, 0, 0, 0, 0);
        sliced.Values.Skip(16).Take(8).Should().Equal(32f, 72f, 0f, 0f, 0f, 0f, 0f, 0f);
        sliced.Bias.Take(10).Should().Equal(-3f, -7f, -2f, -6f, -1f, -5f, -9f, -0f, -4f, -8f);
        sliced.Stored.Should().Be(24);
        csr.Kept.Should().Be(Enumerable.Range(0, rows).Sum(r => r % 4));
    }
}
