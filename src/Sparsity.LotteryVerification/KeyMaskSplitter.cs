using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification;

/// <summary>A ticket split into a small key sub-mask and the locked remainder (M = M_s + M_l, disjoint). Owns both.</summary>
/// <param name="Key">The key sub-mask M_s.</param>
/// <param name="Locked">The locked sub-mask M_l = M − M_s.</param>
public sealed record KeyMaskSplit(MaskSet Key, MaskSet Locked) : IDisposable
{
    /// <summary>Relative density of the key: ‖M_s‖₀ / ‖M‖₀.</summary>
    public double RelativeKeyDensity => (double)Key.KeptCount / (Key.KeptCount + Locked.KeptCount);

    /// <summary>Disposes both masks.</summary>
    public void Dispose()
    {
        Key.Dispose();
        Locked.Dispose();
    }
}

/// <summary>Which score chooses the key weights.</summary>
public enum KeyMaskScore
{
    /// <summary>|W| of kept weights (the paper's OMP score).</summary>
    Magnitude,

    /// <summary>Each kept weight's share of all input-to-output path weight in the <see cref="WeightedChannelGraph"/> (our exact replacement of the paper's betweenness).</summary>
    PathShare,
}

/// <summary>
/// Scheme V1 (Chen et al., NeurIPS 2021, Algorithm 1; docs/algorithms.md#key-masks-v1): the top-scoring kept weights form a key
/// sub-mask M_s with relative density <c>n_s</c>; the locked mask M_l = M − M_s is what is shipped without the key.
/// Retraining on M_l alone should fall more than 1 % short of the ticket.
/// </summary>
public static class KeyMaskSplitter
{
    /// <summary>Splits <paramref name="ticket"/> by <paramref name="scores"/>.</summary>
    /// <param name="ticket">The ticket mask (not modified).</param>
    /// <param name="scores">Scores over the same layers and shapes; higher = more likely in the key. Pruned positions are never taken.</param>
    /// <param name="keyFraction">Relative key density n_s in (0, 1): the key holds round(n_s · kept) weights (at least 1).</param>
    /// <exception cref="ArgumentException">Scores do not match the ticket.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keyFraction"/> is outside (0, 1).</exception>
    public static KeyMaskSplit Split(MaskSet ticket, ScoreSet scores, double keyFraction)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(scores);
        if (!(keyFraction > 0 && keyFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(keyFraction), keyFraction, "The relative key density must lie in (0, 1), for example 0.05.");
        }

        var problems = ticket.Names.Where(n => !scores.Contains(n) || !scores[n].shape.SequenceEqual(ticket[n].shape)).ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"The scores do not cover the ticket's layers with the same shapes: {string.Join(", ", problems)}.", nameof(scores));
        }

        long keyCount = Math.Max(1, (long)Math.Round(keyFraction * ticket.KeptCount));
        var candidates = new List<(double Score, int Layer, long Index)>();
        var masks = ticket.Names.Select(n => MaskArrays.Flat(ticket[n])).ToList();
        for (int li = 0; li < ticket.LayerCount; li++)
        {
            using var cpu = scores[ticket.Names[li]].detach().to(ScalarType.Float64).cpu().flatten();
            var s = cpu.data<double>().ToArray();
            for (long i = 0; i < s.Length; i++)
            {
                if (masks[li][i])
                {
                    candidates.Add((s[i], li, i));
                }
            }
        }

        var keys = masks.Select(m => new bool[m.Length]).ToList();
        foreach (var (_, li, i) in candidates.OrderByDescending(c => c.Score).ThenBy(c => c.Layer).ThenBy(c => c.Index).Take((int)keyCount))
        {
            keys[li][i] = true;
            masks[li][i] = false;
        }

        var key = new List<KeyValuePair<string, Tensor>>();
        var locked = new List<KeyValuePair<string, Tensor>>();
        for (int li = 0; li < ticket.LayerCount; li++)
        {
            var name = ticket.Names[li];
            var t = ticket[name];
            key.Add(KeyValuePair.Create(name, MaskArrays.ToTensor(keys[li], t.shape, t.device)));
            locked.Add(KeyValuePair.Create(name, MaskArrays.ToTensor(masks[li], t.shape, t.device)));
        }

        return new KeyMaskSplit(new MaskSet(key), new MaskSet(locked));
    }

    /// <summary>Splits with a built-in score computed from <paramref name="model"/>'s weights.</summary>
    /// <param name="model">The model whose weights the ticket masks.</param>
    /// <param name="ticket">The ticket mask.</param>
    /// <param name="keyFraction">Relative key density n_s in (0, 1).</param>
    /// <param name="score">Score kind.</param>
    /// <param name="parameters">Prunable parameters; every Conv/Linear weight when null.</param>
    /// <exception cref="ArgumentException">The ticket does not fit the model.</exception>
    public static KeyMaskSplit Split(nn.Module model, MaskSet ticket, double keyFraction, KeyMaskScore score = KeyMaskScore.Magnitude, IReadOnlyList<PrunableParameter>? parameters = null)
    {
        using var scores = Scores(model, ticket, score, parameters);
        return Split(ticket, scores, keyFraction);
    }

    /// <summary>The built-in key scores (|W ⊙ M| or path share).</summary>
    /// <param name="model">The model.</param>
    /// <param name="ticket">The ticket mask.</param>
    /// <param name="score">Score kind.</param>
    /// <param name="parameters">Prunable parameters; every Conv/Linear weight when null.</param>
    public static ScoreSet Scores(nn.Module model, MaskSet ticket, KeyMaskScore score, IReadOnlyList<PrunableParameter>? parameters = null)
    {
        var byName = MaskArrays.Resolve(model, ticket, parameters);
        if (score == KeyMaskScore.PathShare)
        {
            return WeightedChannelGraph.Build(model, ticket, parameters).WeightScores(ticket.Device);
        }

        var entries = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, mask) in ticket.Entries)
        {
            using var scope = NewDisposeScope();
            var w = byName[name].Weight.detach().abs().mul(mask.to(byName[name].Weight.device)).to(mask.device).to(ScalarType.Float32);
            entries.Add(KeyValuePair.Create(name, w.MoveToOuterDisposeScope().DetachFromDisposeScope()));
        }

        return new ScoreSet(entries);
    }
}
