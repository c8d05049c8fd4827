using System.Globalization;
using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// An N:M semi-structured sparsity pattern: in every group of M consecutive weights along a layer's input
/// dimension exactly N are kept (Mishra et al., "Accelerating Sparse Deep Neural Networks", arXiv:2104.08378,
/// §3: 2:4 on NVIDIA Ampere sparse tensor cores; Zhou et al., "Learning N:M Fine-grained Structured Sparse
/// Neural Networks From Scratch", ICLR 2021, for general N:M).
/// </summary>
/// <remarks>
/// <para>Layout (the one PyTorch's <c>to_sparse_semi_structured</c> expects): a weight is viewed as a matrix
/// [out, r] with r = numel / out (Linear [out, in]: r = in; Conv2d [out, in, kh, kw]: r = in·kh·kw, the
/// weight flattened per output row in PyTorch's memory order). Groups are M consecutive entries of a row, so
/// in flat row-major order group g holds elements g·M … g·M + M − 1. M must divide r.</para>
/// <para>Selection rule (<see cref="KeepTopN"/>): in each group the N highest scores are kept; ties by score,
/// then by flat index (lower index kept first), the rule every <see cref="ISparsityAllocation"/> follows.</para>
/// </remarks>
public sealed record NMPattern
{
    /// <summary>The largest group size accepted (the selection compares every pair inside a group).</summary>
    public const int MaxGroupSize = 64;

    /// <summary>Creates a pattern keeping <paramref name="n"/> of every <paramref name="m"/> weights.</summary>
    /// <param name="n">Weights kept per group, 1 ≤ n &lt; m.</param>
    /// <param name="m">Group size, 2 ≤ m ≤ <see cref="MaxGroupSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">n or m outside its range (the message names it).</exception>
    public NMPattern(int n, int m)
    {
        if (m < 2 || m > MaxGroupSize)
        {
            throw new ArgumentOutOfRangeException(nameof(m), m,
                $"M is the group size of an N:M pattern and must lie in [2, {MaxGroupSize}] (2:4 has M = 4).");
        }

        if (n < 1 || n >= m)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n,
                $"N is the number of weights kept per group of M = {m} and must lie in [1, {m - 1}] (N ≥ M would prune nothing).");
        }

        N = n;
        M = m;
    }

    /// <summary>2:4, the pattern of NVIDIA Ampere (and later) sparse tensor cores.</summary>
    public static NMPattern TwoFour { get; } = new(2, 4);

    /// <summary>1:4 (75 % sparsity).</summary>
    public static NMPattern OneFour { get; } = new(1, 4);

    /// <summary>4:8 (50 % sparsity, larger groups).</summary>
    public static NMPattern FourEight { get; } = new(4, 8);

    /// <summary>Weights kept per group.</summary>
    public int N { get; }

    /// <summary>Group size.</summary>
    public int M { get; }

    /// <summary>The sparsity of a layer under the pattern, 1 − N/M.</summary>
    public double Sparsity => 1.0 - ((double)N / M);

    /// <summary>Parses <c>"N:M"</c>, for example <c>"2:4"</c>.</summary>
    /// <param name="text">The pattern as N:M.</param>
    /// <exception cref="FormatException">Not two integers separated by a colon.</exception>
    /// <exception cref="ArgumentOutOfRangeException">See <see cref="NMPattern(int, int)"/>.</exception>
    public static NMPattern Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m))
        {
            throw new FormatException($"'{text}' is not an N:M pattern; write it as two integers with a colon, for example 2:4.");
        }

        return new NMPattern(n, m);
    }

    /// <summary>The row length r = numel / shape[0] of a weight of <paramref name="shape"/> (numel for a 1-d shape).</summary>
    /// <param name="shape">A weight shape with at least one dimension.</param>
    public static long RowLength(IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count == 0)
        {
            throw new ArgumentException("A scalar has no rows; N:M groups need a weight of at least one dimension.", nameof(shape));
        }

        long numel = shape.Aggregate(1L, (a, b) => a * b);
        return shape.Count == 1 || shape[0] == 0 ? numel : numel / shape[0];
    }

    /// <summary>Whether M divides the row length of <paramref name="shape"/> (so the pattern can be applied).</summary>
    /// <param name="shape">A weight shape with at least one dimension.</param>
    public bool Fits(IReadOnlyList<long> shape) => RowLength(shape) % M == 0;

    /// <summary>
    /// A bool mask of the scores' shape that keeps exactly N of every group of M (the N highest scores; ties by
    /// lower flat index), on the scores' device. The caller owns the result.
    /// </summary>
    /// <param name="scores">Floating-point scores of one weight (any shape whose row length M divides).</param>
    /// <exception cref="ArgumentException">M does not divide the row length (the message names the fix).</exception>
    public Tensor KeepTopN(Tensor scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        CheckFits(scores.shape, nameof(scores), "the scores");
        using var scope = NewDisposeScope();
        var rank = Ranks(scores.detach().reshape(-1, M));
        return rank.lt(N).reshape(scores.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Number of groups of <paramref name="mask"/> that do not keep exactly N weights (0 = the mask follows the pattern).</summary>
    /// <param name="mask">A bool (or 0/1) mask of one weight.</param>
    /// <exception cref="ArgumentException">M does not divide the row length.</exception>
    public long Violations(Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        CheckFits(mask.shape, nameof(mask), "the mask");
        using var scope = NewDisposeScope();
        var kept = mask.detach().ne(0).reshape(-1, M).sum(1, type: ScalarType.Int64);
        return kept.ne(N).count_nonzero().item<long>();
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{N}:{M}");

    /// <summary>
    /// Rank of every entry inside its group (rows of <paramref name="groups"/>, [G, M]): the number of entries of
    /// the group that come before it under "higher score first, then lower index". Int64, in the current scope.
    /// </summary>
    internal Tensor Ranks(Tensor groups)
    {
        var a = groups.unsqueeze(2); // entry i
        var b = groups.unsqueeze(1); // entry j
        var before = ones(M, M, ScalarType.Bool, groups.device).triu(1); // i < j
        var beats = a.gt(b).logical_or_(a.eq(b).logical_and_(before)); // i comes before j
        return beats.sum(1, type: ScalarType.Int64);
    }

    /// <summary>Throws unless M divides the row length of <paramref name="shape"/>.</summary>
    internal void CheckFits(long[] shape, string paramName, string what)
    {
        if (shape.Length == 0)
        {
            throw new ArgumentException($"{what} is a scalar; an N:M pattern needs a weight of at least one dimension.", paramName);
        }

        long r = RowLength(shape);
        if (r % M != 0)
        {
            throw new ArgumentException(
                $"{char.ToUpperInvariant(what[0])}{what[1..]} of shape [{string.Join(", ", shape)}]: rows of {r} weights, which M = {M} of the " +
                $"{this} pattern does not divide; use an M that divides {r}, or leave the layer out (keep it dense).", paramName);
        }
    }
}
