using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>
/// Prunes in n rounds with re-scoring (the iterative procedure of SynFlow, Tanaka et al. 2020, Alg. 1, applied
/// to any criterion; iterative magnitude pruning without the retraining between rounds): round k scores the
/// model with the mask of round k − 1 applied (through <see cref="MaskedModel"/>, so pruned weights are exactly
/// 0 during scoring) and cuts at the schedule's sparsity for round k. Weights pruned in an earlier round get
/// score −∞ before the cut, so they can never come back (docs/algorithms.md#snip: iterated SNIP would otherwise
/// revive them).
/// </summary>
public static class IterativePruning
{
    /// <summary>Runs the rounds and returns the final scores (with −∞ for weights pruned before the last round) and mask.</summary>
    /// <param name="criterion">The criterion scored every round (use a single-round configuration for SynFlow).</param>
    /// <param name="model">The model; its weights are masked during scoring and restored afterwards, also on failure.</param>
    /// <param name="parameters">The prunable parameters.</param>
    /// <param name="batches">Batches for data criteria, enumerated once per round.</param>
    /// <param name="allocation">Cuts the scores every round.</param>
    /// <param name="targetSparsity">Sparsity after the last round, in [0, 1).</param>
    /// <param name="schedule">Rounds and decay.</param>
    /// <param name="progress">Receives the number of completed rounds.</param>
    /// <param name="cancellationToken">Checked between rounds (and inside the criterion).</param>
    /// <returns>Scores and mask owned by the caller.</returns>
    public static InitialMask Run(
        IPruningCriterion criterion,
        nn.Module model,
        IReadOnlyList<PrunableParameter> parameters,
        IEnumerable<Batch> batches,
        ISparsityAllocation allocation,
        double targetSparsity,
        IterativePruningSchedule schedule,
        IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        ArgumentNullException.ThrowIfNull(allocation);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(batches);
        SparsityBudget.Validate(targetSparsity, nameof(targetSparsity));
        ScoringSupport.ValidateParameters(model, parameters);

        MaskSet? mask = null;
        try
        {
            for (int round = 1; round <= schedule.Rounds; round++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var sparsity = schedule.SparsityAfter(round, targetSparsity);
                var options = new ScoringOptions { TargetSparsity = sparsity, Allocation = allocation };
                ScoreSet raw;
                if (mask is null)
                {
                    raw = criterion.Score(model, parameters, batches, options, cancellationToken);
                }
                else
                {
                    using var masked = MaskedModel.Attach(model, mask, parameters);
                    raw = criterion.Score(model, parameters, batches, options, cancellationToken);
                }

                var scores = raw;
                if (mask is not null)
                {
                    using (raw)
                    {
                        scores = Exclude(raw, mask);
                    }
                }

                MaskSet next;
                try
                {
                    next = allocation.Allocate(scores, sparsity);
                }
                catch
                {
                    scores.Dispose();
                    throw;
                }

                mask?.Dispose();
                mask = next;
                progress?.Report(round);
                if (round == schedule.Rounds)
                {
                    var result = new InitialMask(scores, mask);
                    mask = null;
                    return result;
                }

                scores.Dispose();
            }

            throw new InvalidOperationException("Unreachable: the schedule has at least one round.");
        }
        finally
        {
            mask?.Dispose();
        }
    }

    private static ScoreSet Exclude(ScoreSet scores, MaskSet mask)
    {
        var entries = new List<KeyValuePair<string, Tensor>>(scores.LayerCount);
        foreach (var (name, s) in scores.Entries)
        {
            using var scope = NewDisposeScope();
            var keep = mask[name].to(s.device);
            entries.Add(KeyValuePair.Create(name, s.masked_fill(keep.logical_not(), double.NegativeInfinity).MoveToOuterDisposeScope()));
        }

        return new ScoreSet(entries);
    }
}
