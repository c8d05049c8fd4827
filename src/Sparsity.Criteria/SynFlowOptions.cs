namespace Sparsity.Criteria;

/// <summary>Options of <see cref="SynFlowCriterion"/>.</summary>
public sealed record SynFlowOptions
{
    private readonly IterativePruningSchedule _schedule = new() { Rounds = 100 };
    private readonly IReadOnlyList<long>? _inputShape;

    /// <summary>
    /// Rounds and schedule of the iterative pruning towards <see cref="ScoringOptions.TargetSparsity"/>.
    /// Default: 100 rounds, exponential — the setting of the paper's figures (Synaptic-Flow
    /// <c>prune_epochs = 100</c>, <c>compression_schedule = exponential</c>).
    /// </summary>
    /// <exception cref="ArgumentNullException">Null.</exception>
    public IterativePruningSchedule Schedule
    {
        get => _schedule;
        init => _schedule = value ?? throw new ArgumentNullException(nameof(Schedule), "Schedule must not be null; use new IterativePruningSchedule { Rounds = 1 } for single shot.");
    }

    /// <summary>
    /// Shape of one input example (without the batch dimension), e.g. [1, 28, 28]. Used only when no batch
    /// is given; otherwise the shape of the first batch is taken, as the official code does.
    /// </summary>
    /// <exception cref="ArgumentException">Empty or with a dimension &lt; 1.</exception>
    public IReadOnlyList<long>? InputShape
    {
        get => _inputShape;
        init
        {
            if (value is not null && (value.Count == 0 || value.Any(d => d < 1)))
            {
                throw new ArgumentException($"InputShape is the shape of one example without the batch dimension, every dimension ≥ 1; got [{string.Join(", ", value)}].", nameof(InputShape));
            }

            _inputShape = value?.ToArray();
        }
    }

    /// <summary>
    /// Score in float64 (default true): the synaptic flow is a product over depth and under- or overflows in
    /// float32 for deep networks (the official code left a float64 path commented out). The model is never
    /// converted: the criterion runs on float64 working copies of its tensors.
    /// </summary>
    public bool UseFloat64 { get; init; } = true;

    /// <summary>The defaults.</summary>
    public static SynFlowOptions Default { get; } = new();
}
