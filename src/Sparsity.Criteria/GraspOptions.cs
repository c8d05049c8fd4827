namespace Sparsity.Criteria;

/// <summary>Options of <see cref="GraspCriterion"/>.</summary>
public sealed record GraspOptions
{
    private readonly double _temperature = 200.0;

    /// <summary>
    /// Temperature T: the loss is the cross-entropy of <c>logits / T</c>, as in the official code
    /// (<c>alecwangcq/GraSP</c> <c>pruner/GraSP.py</c>, T = 200). Must be finite and &gt; 0. Default 200.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a finite positive number.</exception>
    public double Temperature
    {
        get => _temperature;
        init
        {
            if (!(value > 0.0) || !double.IsFinite(value))
            {
                throw new ArgumentOutOfRangeException(nameof(Temperature), value, "Temperature divides the logits; use a finite value > 0 (the official code uses 200).");
            }

            _temperature = value;
        }
    }

    /// <summary>
    /// Score with the model in training mode (BatchNorm uses batch statistics). Default true, as the official
    /// code (its <c>.eval()</c> call is commented out); Synaptic-Flow's port scores in eval mode.
    /// </summary>
    public bool TrainMode { get; init; } = true;

    /// <summary>The defaults.</summary>
    public static GraspOptions Default { get; } = new();
}
