using static TorchSharp.torch;

namespace Sparsity.LotteryVerification;

/// <summary>
/// The channel-connectivity (biadjacency) matrix of one layer's mask (Chen et al., NeurIPS 2021, Algorithm 2
/// step 2; docs/algorithms.md#channel-graphs): <c>B[out, in] = 1</c> iff at least one weight of kernel <c>(out, in)</c> is kept.
/// For a linear layer each kernel is a single weight, so <c>B</c> is the mask itself. Rows are output channels,
/// columns input channels.
/// </summary>
public sealed class ChannelConnectivity
{
    private readonly bool[] _cells;

    private ChannelConnectivity(int rows, int columns, bool[] cells)
    {
        Rows = rows;
        Columns = columns;
        _cells = cells;
    }

    /// <summary>Number of output channels (rows).</summary>
    public int Rows { get; }

    /// <summary>Number of input channels (columns).</summary>
    public int Columns { get; }

    /// <summary>Whether channel pair (<paramref name="output"/>, <paramref name="input"/>) is connected.</summary>
    /// <param name="output">Output channel (row).</param>
    /// <param name="input">Input channel (column).</param>
    public bool this[int output, int input] => _cells[Index(output, input)];

    /// <summary>Number of connected channel pairs.</summary>
    public long ConnectedPairs => _cells.LongCount(c => c);

    /// <summary>Fraction of channel pairs connected.</summary>
    public double Density => (double)ConnectedPairs / _cells.Length;

    /// <summary>Builds <c>B</c> from a mask of shape [out, in] (linear) or [out, in, k…] (convolution).</summary>
    /// <param name="mask">A bool (or 0/1) mask tensor.</param>
    /// <exception cref="ArgumentException">The mask has rank below 2.</exception>
    public static ChannelConnectivity FromMask(Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        long kernel = MaskArrays.KernelSize(mask.shape);
        var values = MaskArrays.Flat(mask);
        int rows = (int)mask.shape[0];
        int cols = (int)mask.shape[1];
        var cells = new bool[rows * cols];
        for (int c = 0; c < cells.Length; c++)
        {
            long start = c * kernel;
            for (long u = 0; u < kernel; u++)
            {
                if (values[start + u])
                {
                    cells[c] = true;
                    break;
                }
            }
        }

        return new ChannelConnectivity(rows, cols, cells);
    }

    /// <summary>Builds <c>B</c> for one layer of a mask set.</summary>
    /// <param name="masks">The masks.</param>
    /// <param name="name">The parameter's state-dict key.</param>
    public static ChannelConnectivity FromMask(MaskSet masks, string name)
    {
        ArgumentNullException.ThrowIfNull(masks);
        return FromMask(masks[name]);
    }

    /// <summary>The matrix as a row-major array (a copy).</summary>
    public bool[] ToArray() => (bool[])_cells.Clone();

    /// <inheritdoc />
    public override string ToString() => $"ChannelConnectivity({Rows}×{Columns}, {ConnectedPairs} connected)";

    private int Index(int output, int input)
    {
        if ((uint)output >= (uint)Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(output), output, $"Output channel must lie in [0, {Rows}).");
        }

        if ((uint)input >= (uint)Columns)
        {
            throw new ArgumentOutOfRangeException(nameof(input), input, $"Input channel must lie in [0, {Columns}).");
        }

        return (output * Columns) + input;
    }
}
