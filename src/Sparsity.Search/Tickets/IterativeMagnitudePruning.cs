using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sparsity.Criteria;
using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>
/// Lottery tickets by iterative magnitude pruning (IMP) with rewinding: train dense, prune a fraction of the
/// remaining weights, rewind the survivors, retrain with the mask fixed, repeat (Frankle &amp; Carbin,
/// ICLR 2019, Algorithm "iterative pruning with resetting"; late rewinding: Frankle et al., ICML 2020;
/// fine-tuning and learning-rate rewinding: Renda et al., ICLR 2020), with the two controls that make a
/// ticket a ticket (reinitialisation, random mask) and the NO-stealing-LTH rate ladder (Ownership
/// verification of lottery tickets, A.5.1: undo a level that falls more than a tolerance below dense and
/// continue with the next smaller fraction).
/// </summary>
/// <remarks>
/// <para>Level L ≥ 1: score the weights trained at level L − 1 with the criterion (pruned weights get −∞, so
/// they are never revived), prune exactly ⌈f · remaining⌉ of them (global allocation; ties broken by flat
/// index, lower index kept), restart from the rewind point, train through <see cref="MaskedModel"/> (the
/// library's one masking mechanism; the trainer masks gradients and re-applies the mask around every
/// step), record densities and per-epoch test accuracy, and write the ticket (mask + rewound weights).</para>
/// <para>The model ends holding the final ticket's trained weights (pruned positions 0.0). With a checkpoint
/// folder, the run state is written after every level and a later call with the same options resumes
/// from the last finished level.</para>
/// </remarks>
public sealed partial class IterativeMagnitudePruning
{
    private static readonly MagnitudeCriterion DefaultCriterion = new();
    private readonly IterativeMagnitudePruningOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates an iterative-pruning run description.</summary>
    /// <param name="options">The options (validated when <see cref="Run"/> starts); defaults when null.</param>
    /// <param name="logger">Logger; none when null.</param>
    public IterativeMagnitudePruning(IterativeMagnitudePruningOptions? options = null, ILogger<IterativeMagnitudePruning>? logger = null)
    {
        _options = options ?? new IterativeMagnitudePruningOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options of this run.</summary>
    public IterativeMagnitudePruningOptions Options => _options;

    /// <summary>
    /// Runs iterative pruning on <paramref name="model"/> (at its initialisation) with
    /// <paramref name="trainer"/>, or resumes it from <paramref name="checkpointFolder"/>.
    /// </summary>
    /// <param name="model">The model at initialisation (or any model of the architecture when resuming); trained in place.</param>
    /// <param name="trainer">Trains one level (see <see cref="ILevelTrainer"/>).</param>
    /// <param name="checkpointFolder">Folder for ticket files and the resumable run state; none when null.</param>
    /// <param name="progress">Receives a report after every epoch.</param>
    /// <param name="cancellationToken">Cancels between epochs; the last finished level stays on disk.</param>
    /// <returns>Every level's record and the final mask.</returns>
    /// <exception cref="ArgumentException">An option is invalid (the model is unchanged).</exception>
    public IterativeMagnitudePruningResult Run(
        nn.Module model,
        ILevelTrainer trainer,
        string? checkpointFolder = null,
        IProgress<IterativeMagnitudePruningProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainer);
        _options.Validate(trainer);
        var parameters = new ParameterSelector(_options.Parameters).Select(model);
        var outputLayer = new ParameterSelector(_options.Parameters with { KeepFirstLayerDense = false, KeepLastLayerDense = false, Include = [], Exclude = [] })
            .Select(model)[^1].Name;
        if (_options.OutputLayerFraction is not null && parameters.All(p => p.Name != outputLayer))
        {
            throw new ArgumentException($"OutputLayerFraction is set but the output layer '{outputLayer}' is not pruned; include it in Parameters.", nameof(IterativeMagnitudePruningOptions.OutputLayerFraction));
        }

        var run = new RunContext(this, model, trainer, parameters, outputLayer, checkpointFolder, progress, cancellationToken);
        return run.Execute();
    }

    /// <summary>
    /// Number of weights a level removes from <paramref name="remaining"/> at fraction <paramref name="fraction"/>:
    /// ⌈fraction · remaining⌉, in decimal arithmetic (so 0.2 · 100 is 20, not 21).
    /// </summary>
    /// <param name="remaining">Weights still kept.</param>
    /// <param name="fraction">Fraction of them to prune, in (0, 1).</param>
    public static long PruneCount(long remaining, double fraction) =>
        (long)decimal.Ceiling((decimal)fraction * remaining);

    /// <summary>
    /// A sparsity s with <see cref="SparsityBudget.KeptCount"/>(total, s) = <paramref name="kept"/> exactly
    /// (the allocation interface speaks sparsity; IMP counts weights).
    /// </summary>
    internal static double SparsityFor(long total, long kept)
    {
        if (kept == total)
        {
            return 0.0;
        }

        double s = (double)(total - kept) / total;
        for (int i = 0; i < 128; i++)
        {
            var k = SparsityBudget.KeptCount(total, s);
            if (k == kept)
            {
                return s;
            }

            s = k > kept ? Math.BitIncrement(s) : Math.BitDecrement(s);
        }

        throw new InvalidOperationException($"No sparsity keeps exactly {kept} of {total} weights.");
    }

    /// <summary>
    /// Default reinitialiser: PyTorch's default initialisation of every Linear and Conv layer (weight
    /// Kaiming-uniform with a = √5, bias U(−1/√fan_in, 1/√fan_in)), <c>reset_parameters()</c> of other
    /// modules that have it (normalisation layers), from the global CPU RNG seeded with
    /// <paramref name="seed"/>; the RNG's state is restored afterwards.
    /// </summary>
    internal static void ResetParameters(nn.Module model, long seed)
    {
        using var saved = TorchSharp.torch.random.get_rng_state();
        try
        {
            TorchSharp.torch.random.manual_seed(seed);
            using var noGrad = no_grad();
            foreach (var module in model.modules().Prepend(model))
            {
                if (module is TorchSharp.Modules.Linear or TorchSharp.Modules.Conv1d or TorchSharp.Modules.Conv2d or TorchSharp.Modules.Conv3d)
                {
                    var weight = module.get_parameter("weight");
                    if (weight is null)
                    {
                        continue;
                    }

                    nn.init.kaiming_uniform_(weight, Math.Sqrt(5));
                    if (module.get_parameter("bias") is { } bias)
                    {
                        var (fanIn, _) = nn.init.CalculateFanInAndFanOut(weight);
                        var bound = fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0.0;
                        nn.init.uniform_(bias, -bound, bound);
                    }
                }
                else
                {
                    module.GetType().GetMethod("reset_parameters", Type.EmptyTypes)?.Invoke(module, null);
                }
            }
        }
        finally
        {
            TorchSharp.torch.random.set_rng_state(saved);
        }
    }
}
