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
    /// <param name="scores">
    /// Name → floating-point tensor pairs, in layer order, each with at least one element. No NaN and no +∞;
    /// −∞ is allowed only as the "never keep" marker that iterative pruning puts on already-pruned positions
    /// (a criterion that computes −∞ itself must reject it, as GraSP does).
    /// </param>
    /// <exception cref="ArgumentException">
    /// Empty set, duplicate names, a layer with no element (a zero-size layer; the message names it), a
    /// non-floating dtype, or NaN / +∞ scores (the message names the parameter and the count).
    /// </exception>
    public ScoreSet(IEnumerable<KeyValuePair<string, Tensor>> scores)
        : base(scores, "score")
    {
        foreach (var (name, t) in Entries)
        {
            if (!is_floating_point(t))
            {
                throw new ArgumentException($"Scores of '{name}' have dtype {t.dtype}; scores must be floating point.", nameof(scores));
            }

            if (t.numel() == 0)
            {
                throw new ArgumentException(
                    $"Layer '{name}' has a zero-size weight (shape [{string.Join(", ", t.shape)}]); a prunable layer needs at least one weight. " +
                    "Remove the layer from the model or from the parameter selection.", nameof(scores));
            }

            using var scope = NewDisposeScope();
            long nan = t.isnan().count_nonzero().item<long>();
            long posInf = t.isposinf().count_nonzero().item<long>();
            if (nan > 0 || posInf > 0)
            {
                throw new ArgumentException(
                    $"Scores of '{name}' contain {nan} NaN and {posInf} +∞ values; a criterion produced non-finite scores " +
                    "(check that parameter's weights for NaN/±∞, and the loss and batches).",
                    nameof(scores));
            }
        }
    }

    /// <summary>A deep copy, optionally on another device.</summary>
    /// <param name="device">Target device; the current one when null.</param>
    public ScoreSet Clone(Device? device = null) => new(CloneEntries(device));
}
