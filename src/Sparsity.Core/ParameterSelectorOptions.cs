namespace Sparsity;

/// <summary>
/// Which weights a <see cref="ParameterSelector"/> returns. Defaults follow the common convention of the
/// pruning literature: every Conv1d/Conv2d and Linear weight is prunable; biases and normalisation
/// parameters never are.
/// </summary>
public sealed record ParameterSelectorOptions
{
    /// <summary>Keep the first prunable layer (in module registration order) dense. Default false.</summary>
    public bool KeepFirstLayerDense { get; init; }

    /// <summary>
    /// Keep the last prunable layer (in module registration order, normally the classifier) dense.
    /// Default false. Lottery Jackpots and open_lth keep the classifier dense.
    /// </summary>
    public bool KeepLastLayerDense { get; init; }

    /// <summary>Also treat Conv3d weights as prunable. Default false.</summary>
    public bool IncludeConv3d { get; init; }

    /// <summary>
    /// Name patterns (glob: <c>*</c> any run of characters, <c>?</c> one character) a weight's state-dict
    /// key must match to be selected. Empty (default) selects every supported weight.
    /// </summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>Name patterns (glob) that exclude matching weights, applied after <see cref="Include"/>.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>The defaults: every Conv1d/Conv2d/Linear weight.</summary>
    public static ParameterSelectorOptions Default { get; } = new();
}
