using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>
/// SNIP connection sensitivity (Lee, Ajanthan &amp; Torr, "SNIP: Single-shot Network Pruning based on
/// Connection Sensitivity", ICLR 2019, eq. 6): with a multiplicative mask c on every weight,
/// s_j = |∂L(c ⊙ W)/∂c_j| at c = 1, which equals |W_j · ∂L/∂W_j| (docs/algorithms.md#snip).
/// </summary>
/// <remarks>
/// <para>Accumulation: the gradients of the per-batch mean cross-entropy losses are <em>summed over the
/// batches first</em> and the absolute value is taken after: S = |W ⊙ Σ_b ∂L_b/∂W|. This is what
/// Synaptic-Flow's <c>SNIP</c> pruner (the implementation most comparisons use) does by calling
/// <c>backward()</c> per batch into the same mask gradient; the official TF code uses one batch, for which
/// both readings agree.</para>
/// <para>Scores are not divided by their global sum (the official normalisation does not change the
/// ranking). The gradient is taken with <c>autograd.grad</c> on a working copy of the parameters, so the
/// model's weights, <c>.grad</c>, BatchNorm statistics, <c>requires_grad</c> flags and train/eval mode are
/// left as they were, also when scoring throws. Scores have the weights' dtype and device.</para>
/// </remarks>
public sealed class SnipCriterion : IPruningCriterion
{
    private readonly ILogger _logger;

    /// <summary>Creates the criterion.</summary>
    /// <param name="options">Options; <see cref="SnipOptions.Default"/> when null.</param>
    /// <param name="logger">Logger; none when null.</param>
    public SnipCriterion(SnipOptions? options = null, ILogger<SnipCriterion>? logger = null)
    {
        Options = options ?? SnipOptions.Default;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The options in use.</summary>
    public SnipOptions Options { get; }

    /// <inheritdoc />
    public string Name => "snip";

    /// <inheritdoc />
    public bool RequiresData => true;

    /// <inheritdoc />
    public ScoreSet Score(
        nn.Module model,
        IReadOnlyList<PrunableParameter> parameters,
        IEnumerable<Batch> batches,
        ScoringOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var device = ScoringSupport.ValidateParameters(model, parameters);
        var dtype = parameters[0].Weight.dtype;
        var data = ScoringSupport.Materialize(batches, device, dtype, Name, cancellationToken);
        try
        {
            using var copy = ModelWorkingCopy.Create(model);
            ScoringSupport.SetMode(model, Options.TrainMode);
            var weights = parameters.Select(p => copy[p.Name]).ToList();
            weights.ForEach(w => w.requires_grad_(true));
            var sums = weights.Select(w => zeros_like(w).DetachFromDisposeScope()).ToList();
            try
            {
                for (int b = 0; b < data.Count; b++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var loss = ScoringSupport.CrossEntropy(model, data[b], b, 1.0, Name);
                    var grads = autograd.grad([loss], weights, allow_unused: true);
                    using var noGrad = no_grad();
                    for (int i = 0; i < weights.Count; i++)
                    {
                        if (ScoringSupport.Defined(grads[i]))
                        {
                            sums[i].add_(grads[i]);
                        }
                    }
                }

                var scores = new List<KeyValuePair<string, Tensor>>(parameters.Count);
                using (no_grad())
                {
                    for (int i = 0; i < weights.Count; i++)
                    {
                        using var scope = NewDisposeScope();
                        scores.Add(KeyValuePair.Create(parameters[i].Name, sums[i].mul(weights[i].detach()).abs_().MoveToOuterDisposeScope()));
                    }
                }

                _logger.LogDebug("SNIP scored {Count} parameters on {Batches} batch(es).", parameters.Count, data.Count);
                return new ScoreSet(scores);
            }
            finally
            {
                sums.ForEach(s => s.Dispose());
            }
        }
        finally
        {
            data.ForEach(b => b.Dispose());
        }
    }
}
