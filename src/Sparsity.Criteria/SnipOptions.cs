namespace Sparsity.Criteria;

/// <summary>Options of <see cref="SnipCriterion"/>.</summary>
public sealed record SnipOptions
{
    /// <summary>
    /// Score with the model in training mode (BatchNorm uses batch statistics). Default false: inference mode,
    /// as the official SNIP code (<c>is_train=False</c>) and Synaptic-Flow (<c>--prune-train-mode</c> off) do.
    /// </summary>
    public bool TrainMode { get; init; }

    /// <summary>The defaults.</summary>
    public static SnipOptions Default { get; } = new();
}
