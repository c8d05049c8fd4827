namespace Sparsity;

/// <summary>
/// N:M semi-structured allocation: every layer keeps exactly N of every group of M consecutive weights along
/// its input dimension (<see cref="NMPattern"/>: Linear rows, Conv2d rows flattened to in·kh·kw), the N
/// highest-scoring ones, ties by score then by lower flat index (Mishra et al., arXiv:2104.08378, §3; the
/// 2:4 masks NVIDIA's ASP derives from magnitude are this allocation with <c>MagnitudeCriterion</c>).
/// </summary>
/// <remarks>
/// <para>The pattern fixes every layer's kept count at numel·N/M, so the <c>sparsity</c> argument of
/// <see cref="KeptCounts"/> and <see cref="Allocate"/> is validated (it must lie in [0, 1)) but does not change
/// the result: each call prunes straight to the pattern (sparsity <see cref="NMPattern.Sparsity"/> in every
/// N:M layer). This is what makes the allocation usable wherever an <see cref="ISparsityAllocation"/> is
/// taken: a criterion, an iterative schedule (every round cuts to N:M; with scores of −∞ on pruned
/// weights the mask then stays put) and iterative magnitude pruning (one level reaches N:M; the next level
/// finds nothing left to prune).</para>
/// <para>A layer whose row length M does not divide is refused (an <see cref="ArgumentException"/> naming
/// <c>scores</c> and the layer) unless <see cref="KeepIncompatibleLayersDense"/> is set, in which case it is
/// kept whole (as NVIDIA's ASP skips layers whose shapes the sparse kernels do not support).</para>
/// </remarks>
public sealed class NMAllocation : ISparsityAllocation
{
    /// <summary>Creates an N:M allocation.</summary>
    /// <param name="pattern">The pattern; <see cref="NMPattern.TwoFour"/> when null.</param>
    /// <param name="keepIncompatibleLayersDense">Keep a layer whose row length M does not divide dense instead of refusing it. Default false.</param>
    public NMAllocation(NMPattern? pattern = null, bool keepIncompatibleLayersDense = false)
    {
        Pattern = pattern ?? NMPattern.TwoFour;
        KeepIncompatibleLayersDense = keepIncompatibleLayersDense;
    }

    /// <summary>The N:M pattern.</summary>
    public NMPattern Pattern { get; }

    /// <summary>Whether a layer whose row length M does not divide is kept dense (true) or refused (false, default).</summary>
    public bool KeepIncompatibleLayersDense { get; }

    /// <inheritdoc />
    public string Name => $"n:m({Pattern})";

    /// <inheritdoc />
    /// <remarks>numel·N/M per N:M layer; numel for a layer kept dense. <paramref name="sparsity"/> is only validated.</remarks>
    public IReadOnlyDictionary<string, long> KeptCounts(ScoreSet scores, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(scores);
        SparsityBudget.Validate(sparsity, nameof(sparsity));
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, s) in scores.Entries)
        {
            counts[name] = IsDense(name, s.shape) ? s.numel() : s.numel() / Pattern.M * Pattern.N;
        }

        return counts;
    }

    /// <inheritdoc />
    /// <remarks>Every N:M layer keeps exactly N per group; <paramref name="sparsity"/> is only validated.</remarks>
    public MaskSet Allocate(ScoreSet scores, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(scores);
        SparsityBudget.Validate(sparsity, nameof(sparsity));
        foreach (var (name, s) in scores.Entries)
        {
            IsDense(name, s.shape); // refuse before any allocation
        }

        var masks = new List<KeyValuePair<string, TorchSharp.torch.Tensor>>(scores.LayerCount);
        try
        {
            foreach (var (name, s) in scores.Entries)
            {
                var mask = IsDense(name, s.shape)
                    ? TorchSharp.torch.ones_like(s, TorchSharp.torch.ScalarType.Bool)
                    : Pattern.KeepTopN(s);
                masks.Add(KeyValuePair.Create(name, mask));
            }

            return new MaskSet(masks);
        }
        catch
        {
            masks.ForEach(m => m.Value.Dispose());
            throw;
        }
    }

    /// <summary>Whether the layer is kept dense; throws when it does not fit and may not be kept dense.</summary>
    private bool IsDense(string name, long[] shape)
    {
        if (shape.Length > 0 && Pattern.Fits(shape))
        {
            return false;
        }

        if (KeepIncompatibleLayersDense)
        {
            return true;
        }

        throw new ArgumentException(
            $"Layer '{name}' of shape [{string.Join(", ", shape)}] has rows of {(shape.Length > 0 ? NMPattern.RowLength(shape) : 0)} weights, " +
            $"which M = {Pattern.M} of the {Pattern} pattern does not divide. Leave the layer out of the selection " +
            "(ParameterSelectorOptions), use an M that divides the row length, or set keepIncompatibleLayersDense.", "scores");
    }
}
