using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// The N:M selection of a mask search (<see cref="MaskSearchOptions.SemiStructured"/>): after every step each
/// group of M consecutive scores keeps its N highest (ties by lower flat index, <see cref="NMPattern.KeepTopN"/>),
/// so every group of the mask stays at exactly N. Works on any device (tensor operations only).
/// </summary>
/// <remarks>
/// <para>Proposal: T is the per-group top-N; revivals T \ M and drops M \ T are listed in ascending flat order.
/// Since every group of M and of T keeps N, each group has as many revivals as drops, so the i-th revival and
/// the i-th drop lie in the same group: the lists are aligned as within-group pairs.</para>
/// <para><see cref="LayerProposal.BoundaryTie"/> is true when, in some group, the N-th and (N+1)-th highest scores
/// are equal (the official short restriction then leaves the layer unchanged for that step, as it does for a
/// tie at an unstructured layer's threshold).</para>
/// <para>Partial acceptance (<see cref="Restrict"/>): the accepted pairs are the within-group pairs with the largest
/// score gain s[revive] − s[drop] (ties by position), so any accepted subset keeps every group at N.</para>
/// </remarks>
internal sealed class NMLayerSelector : ILayerSelector
{
    private readonly NMPattern _pattern;

    /// <summary>Creates the selector of one layer.</summary>
    /// <param name="pattern">The pattern.</param>
    /// <param name="name">The layer's name (for messages).</param>
    /// <param name="shape">The layer's weight shape; M must divide its row length.</param>
    public NMLayerSelector(NMPattern pattern, string name, long[] shape)
    {
        _pattern = pattern;
        Check(pattern, name, shape);
        Count = shape.Aggregate(1L, (a, b) => a * b);
        Kept = Count / pattern.M * pattern.N;
    }

    public long Count { get; }

    public long Kept { get; }

    public long CountHits => 0;

    public long BandHits => 0;

    /// <summary>Every step is one exact per-group selection.</summary>
    public long ExactSelections { get; private set; }

    public float? ThresholdValue => null;

    public double Delta => 0;

    public void Restore(float threshold, double delta)
    {
    }

    public void Dispose()
    {
    }

    public SwapProposal Propose(Tensor flatScores, Tensor flatMask)
    {
        ExactSelections++;
        var groups = flatScores.detach().view(-1, _pattern.M);
        var top = _pattern.KeepTopN(groups);
        var mask = flatMask.view(-1, _pattern.M);
        var revive = top.logical_and(mask.logical_not()).view(-1).nonzero().flatten();
        var drop = mask.logical_and(top.logical_not()).view(-1).nonzero().flatten();
        if (revive.numel() != drop.numel())
        {
            throw new InvalidOperationException(
                $"The mask breaks the {_pattern} pattern ({drop.numel()} drops against {revive.numel()} revivals); an N:M search needs N kept weights in every group.");
        }

        using var plusInfinity = float.PositiveInfinity.ToScalar(); // disposed here, not left to the finalizer
        using var minusInfinity = float.NegativeInfinity.ToScalar();
        var nth = groups.masked_fill(top.logical_not(), plusInfinity).amin(1);      // N-th highest per group
        var next = groups.masked_fill(top, minusInfinity).amax(1);                  // (N+1)-th highest per group
        bool tie = nth.eq(next).any().item<bool>();
        return new SwapProposal(revive, drop, tie);
    }

    /// <summary>The <paramref name="accepted"/> within-group pairs with the largest score gain (ties by position).</summary>
    public (Tensor Revive, Tensor Drop) Restrict(SwapProposal proposal, Tensor flatScores, long accepted)
    {
        var gain = flatScores.index_select(0, proposal.Revive).sub(flatScores.index_select(0, proposal.Drop));
        var order = gain.sort(0, descending: true, stable: true).Indices.narrow(0, 0, accepted);
        return (proposal.Revive.index_select(0, order), proposal.Drop.index_select(0, order));
    }

    /// <summary>
    /// Checks that every layer of <paramref name="initial"/> either keeps N of every group of M or keeps every weight.
    /// </summary>
    /// <exception cref="ArgumentException">Names the first layers that break the pattern (parameter <c>initial</c>).</exception>
    public static void ValidateInitial(NMPattern pattern, MaskSet initial)
    {
        var bad = new List<string>();
        foreach (var (name, mask) in initial.Entries)
        {
            if (initial.KeptIn(name) == mask.numel())
            {
                continue;
            }

            Check(pattern, name, mask.shape);
            long violations = pattern.Violations(mask);
            if (violations > 0)
            {
                bad.Add($"'{name}' ({violations} groups)");
            }
        }

        if (bad.Count > 0)
        {
            throw new ArgumentException(
                $"MaskSearchOptions.SemiStructured is {pattern} but the initial mask breaks it in {string.Join(", ", bad)}; " +
                "start from a mask made by NMAllocation (for example CriterionMaskInitializer with new NMAllocation()).", "initial");
        }
    }

    private static void Check(NMPattern pattern, string name, long[] shape)
    {
        if (shape.Length == 0 || !pattern.Fits(shape))
        {
            throw new ArgumentException(
                $"MaskSearchOptions.SemiStructured is {pattern} but layer '{name}' of shape [{string.Join(", ", shape)}] has rows of " +
                $"{(shape.Length == 0 ? 0 : NMPattern.RowLength(shape))} weights, which M = {pattern.M} does not divide; keep the layer whole in the initial mask " +
                "(NMAllocation with keepIncompatibleLayersDense) or leave it out of the searched weights.", "initial");
        }
    }
}
