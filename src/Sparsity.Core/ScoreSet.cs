using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// One floating-point score tensor per prunable parameter; a higher score means <em>keep</em>. Pruning
/// criteria produce it, an <see cref="ISparsityAllocation"/> turns it into a <see cref="MaskSet"/>.
/// Owns its tensors (dispose it).
/// </summary>
public sealed class ScoreSet : NamedTensorSet
{
    /// <summary>Takes ownership of the score tensors.</summary>
    /// <param name="scores">Name → floating-point tensor pairs, in layer order; no NaN allowed.</param>
    /// <exception cref="ArgumentException">Empty, duplicate names, non-floating dtype, or NaN scores.</exception>
    public ScoreSet(IEnumerable<KeyValuePair<string, Tensor>> scores)
        : base(scores, "score")
    {
        foreach (var (name, t) in Entries)
        {
            if (!is_floating_point(t))
            {
                throw new ArgumentException($"Scores of '{name}' have dtype {t.dtype}; scores must be floating point.", nameof(scores));
            }

            using var nan = t.isnan().any();
            if (nan.item<bool>())
            {
                throw new ArgumentException(
                    $"Scores of '{name}' contain NaN; a criterion produced an undefined score (check the loss and the batches).",
                    nameof(scores));
            }
        }
    }

    /// <summary>A deep copy, optionally on another device.</summary>
    /// <param name="device">Target device; the current one when null.</param>
    public ScoreSet Clone(Device? device = null) => new(CloneEntries(device));
}
