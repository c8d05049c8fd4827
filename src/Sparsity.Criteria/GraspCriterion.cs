using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>
/// GraSP, gradient signal preservation (Wang, Zhang &amp; Grosse, "Picking Winning Tickets Before Training by
/// Preserving Gradient Flow", ICLR 2020, eq. 8): the official score S(−θ) = −θ ⊙ Hg, where H is the Hessian
/// of the loss and g its gradient, computed with a Hessian–gradient product (docs/algorithms.md#grasp).
/// </summary>
/// <remarks>
/// <para><b>Sign convention.</b> The official code scores −θ ⊙ Hg and <em>removes the weights with the
/// highest score</em> (removing them reduces gradient flow least). Because scores in this library mean
/// "higher = keep", this criterion returns <b>θ ⊙ Hg</b> = −(official score): keeping the highest θ ⊙ Hg is
/// exactly keeping the lowest official score, so the masks agree (Synaptic-Flow's port uses the same
/// +θ ⊙ Hg, prune-lowest form). Scores can be negative.</para>
/// <para><b>Procedure</b> (official <c>pruner/GraSP.py</c>): each batch is one chunk (the official CIFAR code
/// splits its class-balanced scoring set into two halves: pass it as two batches to reproduce that).
/// Pass 1: g = Σ_b ∂L_b/∂θ without a graph, where L_b is the mean cross-entropy of <c>logits / T</c>
/// (<see cref="GraspOptions.Temperature"/>, default 200). Pass 2: for each batch, g_b = ∂L_b/∂θ with
/// <c>create_graph</c> and <c>retain_graph</c>, z = Σ g ⊙ g_b, and Hg += ∂z/∂θ (double backward). θ and g run
/// over all Conv/Linear weights of the model (as the official code collects them) plus the given parameters;
/// scores are returned for the given parameters. Scores are not divided by |Σ S| (a positive rescaling that
/// does not change the ranking). The official Xavier re-initialisation of Linear layers before scoring is
/// <em>not</em> done: the scores describe the model's actual weights.</para>
/// <para>The model is scored on a working copy of its parameters; weights, <c>.grad</c>, BatchNorm
/// statistics, <c>requires_grad</c> and train/eval mode are left as they were, also on failure.</para>
/// </remarks>
public sealed class GraspCriterion : IPruningCriterion
{
    private readonly ILogger _logger;

    /// <summary>Creates the criterion.</summary>
    /// <param name="options">Options; <see cref="GraspOptions.Default"/> when null.</param>
    /// <param name="logger">Logger; none when null.</param>
    public GraspCriterion(GraspOptions? options = null, ILogger<GraspCriterion>? logger = null)
    {
        Options = options ?? GraspOptions.Default;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The options in use.</summary>
    public GraspOptions Options { get; }

    /// <inheritdoc />
    public string Name => "grasp";

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
        var data = ScoringSupport.Materialize(batches, device, parameters[0].Weight.dtype, Name, cancellationToken);
        try
        {
            var names = HessianParameterNames(model, parameters);
            using var copy = ModelWorkingCopy.Create(model);
            ScoringSupport.SetMode(model, Options.TrainMode);
            var weights = names.Select(n => copy[n]).ToList();
            weights.ForEach(w => w.requires_grad_(true));
            var hg = HessianGradient(model, weights, data, cancellationToken);
            try
            {
                var scores = new List<KeyValuePair<string, Tensor>>(parameters.Count);
                using (no_grad())
                {
                    foreach (var p in parameters)
                    {
                        using var scope = NewDisposeScope();
                        var i = names.IndexOf(p.Name);
                        scores.Add(KeyValuePair.Create(p.Name, weights[i].detach().mul(hg[i]).MoveToOuterDisposeScope()));
                    }
                }

                _logger.LogDebug("GraSP scored {Count} parameters on {Batches} batch(es), T = {T}.", parameters.Count, data.Count, Options.Temperature);
                ScoringSupport.RejectNegativeInfinity(scores, Name);
                return new ScoreSet(scores);
            }
            finally
            {
                hg.ForEach(t => t.Dispose());
            }
        }
        finally
        {
            data.ForEach(b => b.Dispose());
        }
    }

    /// <summary>The Hessian–gradient product Hg over <paramref name="weights"/> (chunked as described above).</summary>
    internal List<Tensor> HessianGradient(nn.Module model, List<Tensor> weights, List<Batch> data, CancellationToken cancellationToken)
    {
        var t = Options.Temperature;
        var g = weights.Select(w => zeros_like(w).DetachFromDisposeScope()).ToList();
        var hg = weights.Select(w => zeros_like(w).DetachFromDisposeScope()).ToList();
        try
        {
            // Pass 1: g = Σ_b ∂L_b/∂θ, no graph.
            for (int b = 0; b < data.Count; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var loss = ScoringSupport.CrossEntropy(model, data[b], b, t, Name);
                var grads = autograd.grad([loss], weights, allow_unused: true);
                using var noGrad = no_grad();
                for (int i = 0; i < weights.Count; i++)
                {
                    if (ScoringSupport.Defined(grads[i]))
                    {
                        g[i].add_(grads[i]);
                    }
                }
            }

            // Pass 2: Hg = Σ_b ∂(Σ g ⊙ ∂L_b/∂θ)/∂θ by double backward (create_graph AND retain_graph).
            for (int b = 0; b < data.Count; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var loss = ScoringSupport.CrossEntropy(model, data[b], b, t, Name);
                var gb = autograd.grad([loss], weights, retain_graph: true, create_graph: true, allow_unused: true);
                Tensor? z = null;
                for (int i = 0; i < weights.Count; i++)
                {
                    if (ScoringSupport.Defined(gb[i]))
                    {
                        var term = gb[i].mul(g[i]).sum();
                        z = z is null ? term : z.add(term);
                    }
                }

                if (z is null || !z.requires_grad)
                {
                    continue; // the gradient does not depend on the weights: this chunk's Hessian term is 0
                }

                var hgb = autograd.grad([z], weights, allow_unused: true);
                using var noGrad = no_grad();
                for (int i = 0; i < weights.Count; i++)
                {
                    if (ScoringSupport.Defined(hgb[i]))
                    {
                        hg[i].add_(hgb[i]);
                    }
                }
            }

            return hg;
        }
        catch
        {
            hg.ForEach(x => x.Dispose());
            throw;
        }
        finally
        {
            g.ForEach(x => x.Dispose());
        }
    }

    private static List<string> HessianParameterNames(nn.Module model, IReadOnlyList<PrunableParameter> parameters)
    {
        var all = new ParameterSelector(new ParameterSelectorOptions { IncludeConv3d = true }).Select(model)
            .Select(p => p.Name).ToList();
        all.AddRange(parameters.Select(p => p.Name).Where(n => !all.Contains(n)));
        return all;
    }
}
