using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// Turns an initial mask (from any <see cref="IMaskInitializer"/>) into the starting scores and starting mask
/// of a search. The starting mask's per-layer kept counts are the counts the search keeps fixed.
/// </summary>
public interface IScoreInitializer
{
    /// <summary>Short name for reports ("official", "scaled", "random").</summary>
    string Name { get; }

    /// <summary>Creates starting scores (float32, on the mask's device) and the starting mask.</summary>
    /// <param name="initial">The initial scores and mask (not modified, not disposed).</param>
    /// <returns>A new pair owned by the caller; the mask keeps exactly the initial mask's count in every layer.</returns>
    InitialMask Initialize(InitialMask initial);
}

/// <summary>
/// The official Lottery Jackpots initialisation (LJ <c>set_prune_rate</c>, docs/algorithms.md#initial-mask-and-layer-budget): score 1.0 for
/// every weight the initial mask keeps and 0.99 for the others, so the first mask is the initial mask.
/// </summary>
public sealed class OfficialScoreInitializer : IScoreInitializer
{
    /// <summary>Score of kept weights (1.0).</summary>
    public const float KeptScore = 1.0f;

    /// <summary>Score of pruned weights (0.99).</summary>
    public const float PrunedScore = 0.99f;

    /// <summary>The shared instance.</summary>
    public static OfficialScoreInitializer Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "official";

    /// <inheritdoc />
    public InitialMask Initialize(InitialMask initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        var scores = new ScoreSet(initial.Mask.Entries.Select(e =>
        {
            using var scope = NewDisposeScope();
            var s = where(e.Value, tensor(KeptScore, device: e.Value.device), tensor(PrunedScore, device: e.Value.device));
            return KeyValuePair.Create(e.Key, s.MoveToOuterDisposeScope());
        }).ToList());
        return new InitialMask(scores, initial.Mask.Clone());
    }
}

/// <summary>
/// Starts from the criterion's own scores (<see cref="InitialMask.Scores"/>), divided per layer by the
/// layer's largest absolute score so that every layer's scores lie in [−1, 1] (a positive per-layer scale
/// keeps each layer's ranking, hence the initial mask). The starting mask is the initial mask.
/// </summary>
public sealed class ScaledScoreInitializer : IScoreInitializer
{
    /// <summary>The shared instance.</summary>
    public static ScaledScoreInitializer Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "scaled";

    /// <inheritdoc />
    public InitialMask Initialize(InitialMask initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        var scores = new ScoreSet(initial.Scores.Entries.Select(e =>
        {
            using var scope = NewDisposeScope();
            var s = e.Value.detach().to(ScalarType.Float32).to(initial.Mask.Device);
            var max = s.abs().max();
            var scaled = max.item<float>() > 0f ? s.div(max) : s.clone();
            return KeyValuePair.Create(e.Key, scaled.MoveToOuterDisposeScope());
        }).ToList());
        return new InitialMask(scores, initial.Mask.Clone());
    }
}

/// <summary>
/// Edge-popup style random scores (EP <c>kaiming_uniform_(s, a=√5)</c>: uniform in ±1/√fan_in), drawn from a
/// private generator seeded from <see cref="Seed"/> via <see cref="SeedDerivation"/> (the global RNG is untouched). The starting mask keeps, in
/// every layer, the initial mask's count of the highest random scores — a random mask with the initial
/// mask's layer-wise budget.
/// </summary>
/// <param name="seed">Seed of the private generator.</param>
public sealed class RandomScoreInitializer(long seed = 0) : IScoreInitializer
{
    /// <summary>Seed of the private generator.</summary>
    public long Seed { get; } = seed;

    /// <inheritdoc />
    public string Name => "random";

    /// <inheritdoc />
    public InitialMask Initialize(InitialMask initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        var generator = new Generator(SeedDerivation.Derive(Seed, "random-scores"));
        var device = initial.Mask.Device;
        var scoreList = new List<KeyValuePair<string, Tensor>>();
        var maskList = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, mask) in initial.Mask.Entries)
        {
            using var scope = NewDisposeScope();
            var shape = mask.shape;
            long fanIn = shape.Length > 1 ? shape.Skip(1).Aggregate(1L, (a, b) => a * b) : shape[0];
            var bound = 1.0 / Math.Sqrt(fanIn);
            var s = rand(shape, ScalarType.Float32, generator: generator).mul(2 * bound).sub(bound).to(device);
            var keep = LayerSelection.ExactTopK(s, initial.Mask.KeptIn(name)).Mask;
            scoreList.Add(KeyValuePair.Create(name, s.MoveToOuterDisposeScope()));
            maskList.Add(KeyValuePair.Create(name, keep.MoveToOuterDisposeScope()));
        }

        return new InitialMask(new ScoreSet(scoreList), new MaskSet(maskList));
    }
}
