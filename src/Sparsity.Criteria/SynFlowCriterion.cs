using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>
/// SynFlow, iterative synaptic flow pruning (Tanaka, Kunin, Yamins &amp; Ganguli, "Pruning neural networks
/// without any data by iteratively conserving synaptic flow", NeurIPS 2020, eq. 2 and Alg. 1): data-free.
/// With every parameter replaced by its absolute value and an all-ones input 𝟙, R = 𝟙ᵀ f(𝟙; |θ|) and the
/// score is S = |∂R/∂θ ⊙ θ| (docs/algorithms.md#synflow).
/// </summary>
/// <remarks>
/// <para>Procedure (Synaptic-Flow <c>SynFlow.score</c> + <c>prune.prune_loop</c>): the model is put in
/// eval mode (BatchNorm uses its running statistics); every parameter and floating buffer — BN γ, β and
/// running statistics included, as the official code linearises the whole state dict — is replaced by its
/// absolute value; the input is ones of shape [1, …example shape] (taken from the first batch, else from
/// <see cref="SynFlowOptions.InputShape"/>). Round k = 1…n scores with the mask of round k − 1 applied and
/// then masks to the schedule's sparsity for round k (<see cref="IterativePruningSchedule"/>, default 100
/// exponential rounds towards <see cref="ScoringOptions.TargetSparsity"/>) with
/// <see cref="ScoringOptions.Allocation"/> (global when null). The scores of round n are returned: cutting
/// them at the target sparsity with the same allocation gives the official final mask. Weights pruned in an
/// earlier round score exactly 0.</para>
/// <para>Everything runs on working copies (float64 by default, <see cref="SynFlowOptions.UseFloat64"/>):
/// the model's own tensors are never written, its Parameter objects stay the same, and its train/eval mode
/// is restored, also when scoring throws. Scores are float64 (float32 scores would underflow) on the
/// model's device. The model must map one tensor to one tensor (<c>nn.Module&lt;Tensor, Tensor&gt;</c>).</para>
/// </remarks>
public sealed class SynFlowCriterion : IPruningCriterion
{
    private readonly ILogger _logger;
    private readonly IProgress<int>? _progress;

    /// <summary>Creates the criterion.</summary>
    /// <param name="options">Options; <see cref="SynFlowOptions.Default"/> when null.</param>
    /// <param name="logger">Logger; none when null.</param>
    /// <param name="progress">Receives the number of completed rounds.</param>
    public SynFlowCriterion(SynFlowOptions? options = null, ILogger<SynFlowCriterion>? logger = null, IProgress<int>? progress = null)
    {
        Options = options ?? SynFlowOptions.Default;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _progress = progress;
    }

    /// <summary>The options in use.</summary>
    public SynFlowOptions Options { get; }

    /// <inheritdoc />
    public string Name => "synflow";

    /// <inheritdoc />
    public bool RequiresData => false;

    /// <summary>
    /// Scores by iterative synaptic flow. Only the shape of the first batch is read (no labels, no values);
    /// with no batch, <see cref="SynFlowOptions.InputShape"/> must be set.
    /// </summary>
    /// <inheritdoc />
    public ScoreSet Score(
        nn.Module model,
        IReadOnlyList<PrunableParameter> parameters,
        IEnumerable<Batch> batches,
        ScoringOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var device = ScoringSupport.ValidateParameters(model, parameters);
        ArgumentNullException.ThrowIfNull(batches);
        if (model is not nn.Module<Tensor, Tensor> forward)
        {
            throw new ArgumentException($"SynFlow needs a model with a single tensor input and output (nn.Module<Tensor, Tensor>); got {model.GetType().Name}.", nameof(model));
        }

        options ??= new ScoringOptions();
        var allocation = options.Allocation ?? new GlobalAllocation();
        var shape = InputShape(batches);
        var dtype = Options.UseFloat64 ? ScalarType.Float64 : parameters[0].Weight.dtype;
        var schedule = Options.Schedule;

        using var copy = ModelWorkingCopy.Create(model, Options.UseFloat64 ? ScalarType.Float64 : null, t => t.abs_());
        model.eval();
        var weights = parameters.Select(p => copy[p.Name]).ToList();
        weights.ForEach(w => w.requires_grad_(true));
        var dense = weights.Select(w => w.detach().clone().DetachFromDisposeScope()).ToList();
        using var input = ones([1, .. shape], dtype, device);
        MaskSet? mask = null;
        try
        {
            for (int round = 1; ; round++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var scores = ScoreOnce(forward, parameters, weights, input, dtype);
                _progress?.Report(round);
                if (round == schedule.Rounds)
                {
                    _logger.LogDebug("SynFlow scored {Count} parameters in {Rounds} round(s) towards sparsity {Sparsity}.",
                        parameters.Count, schedule.Rounds, options.TargetSparsity);
                    return scores;
                }

                var sparsity = schedule.SparsityAfter(round, options.TargetSparsity);
                MaskSet next;
                using (scores)
                {
                    next = allocation.Allocate(scores, sparsity);
                }

                mask?.Dispose();
                mask = next;
                using var noGrad = no_grad();
                for (int i = 0; i < weights.Count; i++)
                {
                    using var m = mask[parameters[i].Name].to(device);
                    using var masked = dense[i].mul(m);
                    weights[i].copy_(masked);
                }
            }
        }
        finally
        {
            mask?.Dispose();
            dense.ForEach(d => d.Dispose());
        }
    }

    private ScoreSet ScoreOnce(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableParameter> parameters, List<Tensor> weights, Tensor input, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor output;
        try
        {
            output = model.forward(input);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ArgumentException(
                $"The model rejected the all-ones SynFlow input of shape [{string.Join(", ", input.shape)}]: {e.Message} " +
                "Give a batch with the model's input shape or set SynFlowOptions.InputShape.", "batches", e);
        }

        ModelWorkingCopy.VerifyForwardUsesCopies(output, dtype);
        var r = output.sum();
        var flow = r.detach().to_type(ScalarType.Float64).item<double>();
        if (!double.IsFinite(flow))
        {
            throw new InvalidOperationException(
                $"The synaptic flow R = {flow} is not finite in {dtype}; use UseFloat64 = true or a shallower model.");
        }

        var grads = autograd.grad([r], weights, allow_unused: true);
        var list = new List<KeyValuePair<string, Tensor>>(weights.Count);
        using (no_grad())
        {
            for (int i = 0; i < weights.Count; i++)
            {
                var s = ScoringSupport.Defined(grads[i]) ? grads[i].mul(weights[i]).abs_() : zeros_like(weights[i]);
                list.Add(KeyValuePair.Create(parameters[i].Name, s.MoveToOuterDisposeScope()));
            }
        }

        return new ScoreSet(list);
    }

    private long[] InputShape(IEnumerable<Batch> batches)
    {
        using var e = batches.GetEnumerator();
        if (e.MoveNext())
        {
            if (e.Current is null)
            {
                throw new ArgumentException("Batch 0 is null.", nameof(batches));
            }

            return e.Current.Inputs.shape.Skip(1).ToArray();
        }

        return Options.InputShape?.ToArray() ?? throw new ArgumentException(
            "SynFlow needs the model's input shape: give one batch (only its shape is read) or set SynFlowOptions.InputShape.",
            nameof(batches));
    }
}
