using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>
/// Random criterion, the sanity baseline of every pruning-at-initialisation comparison (docs/algorithms.md#random):
/// i.i.d. scores drawn uniformly from [0, 1) with a private generator seeded from <see cref="Seed"/> through
/// <see cref="SeedDerivation"/> (so the scores do not track weights initialised with the same seed). The
/// global RNG is never touched, so the same seed gives the same scores on every call and every device.
/// </summary>
/// <remarks>
/// Synaptic-Flow's <c>Rand</c> draws standard-normal scores; since only the ranking of i.i.d. scores matters,
/// a uniform draw gives masks with the same distribution. Scores are drawn on the CPU in parameter order
/// (float32) and then moved to the model's device. Record the seed with the mask for reproducibility.
/// </remarks>
/// <param name="seed">Seed of the private generator.</param>
public sealed class RandomCriterion(long seed) : IPruningCriterion
{
    /// <summary>Seed of the private generator.</summary>
    public long Seed { get; } = seed;

    /// <inheritdoc />
    public string Name => "random";

    /// <inheritdoc />
    public bool RequiresData => false;

    /// <summary>Draws uniform scores for every parameter; batches and options are ignored.</summary>
    /// <inheritdoc />
    public ScoreSet Score(
        nn.Module model,
        IReadOnlyList<PrunableParameter> parameters,
        IEnumerable<Batch> batches,
        ScoringOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var device = ScoringSupport.ValidateParameters(model, parameters);
        cancellationToken.ThrowIfCancellationRequested();
        using var generator = new Generator(SeedDerivation.Derive(Seed, "random-criterion"));
        var scores = new List<KeyValuePair<string, Tensor>>(parameters.Count);
        try
        {
            foreach (var p in parameters)
            {
                using var scope = NewDisposeScope();
                var draw = rand(p.Weight.shape, ScalarType.Float32, generator: generator);
                scores.Add(KeyValuePair.Create(p.Name, draw.to(device).MoveToOuterDisposeScope()));
            }

            return new ScoreSet(scores);
        }
        catch
        {
            scores.ForEach(s => s.Value.Dispose());
            throw;
        }
    }
}
