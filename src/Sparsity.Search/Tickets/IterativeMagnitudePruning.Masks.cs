using Sparsity.Criteria;
using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Search.Tickets;

/// <summary>How one level's mask is chosen (docs/algorithms.md "Iterative magnitude pruning with rewinding"), and its random controls.</summary>
public sealed partial class IterativeMagnitudePruning
{
    private sealed partial class RunContext
    {
        private MaskSet NextMask(double fraction, long targetKept)
        {
            var batches = _o.ScoringData is { } data
                ? data.Batches(_o.ScoringBatchSize, ModelDevice).Take(_o.ScoringBatches)
                : Enumerable.Empty<Batch>();
            var criterion = _o.Criterion ?? DefaultCriterion;
            var allocation = _o.Allocation ?? new GlobalAllocation();
            long remaining = _mask!.KeptCount;
            long total = _mask.TotalCount;
            long newKept = Math.Max(remaining - PruneCount(remaining, fraction), targetKept);
            using var raw = criterion.Score(model, parameters, batches,
                new ScoringOptions { TargetSparsity = SparsityFor(total, newKept), Allocation = allocation }, ct);
            using var scores = Exclude(raw, _mask);

            MaskSet chosen;
            if (allocation is LayerWiseAllocation)
            {
                chosen = LayerWise(scores, fraction, _o.TargetSparsity);
            }
            else
            {
                if (allocation is GlobalAllocation { AllowEmptyLayers: false })
                {
                    newKept = Math.Max(newKept, _mask.LayerCount);
                }

                chosen = allocation.Allocate(scores, SparsityFor(total, newKept));
            }

            // Never revive a pruned weight, whatever the allocation did.
            using (chosen)
            {
                var parts = new List<KeyValuePair<string, Tensor>>(chosen.LayerCount);
                foreach (var (name, m) in chosen.Entries)
                {
                    using var scope = NewDisposeScope();
                    parts.Add(KeyValuePair.Create(name, m.logical_and(_mask[name].to(m.device)).DetachFromDisposeScope()));
                }

                return new MaskSet(parts);
            }
        }

        private MaskSet LayerWise(ScoreSet scores, double fraction, double? target)
        {
            var parts = new List<KeyValuePair<string, Tensor>>();
            var single = new GlobalAllocation(allowEmptyLayers: true);
            foreach (var name in scores.Names)
            {
                long n = scores[name].numel();
                long remaining = _mask!.KeptIn(name);
                double f = name == outputLayer && _o.OutputLayerFraction is { } fo ? fo : fraction;
                long kept = Math.Max(1, remaining - PruneCount(remaining, f));
                if (target is { } t)
                {
                    kept = Math.Max(kept, Math.Min(remaining, SparsityBudget.KeptCount(n, t)));
                }

                using var one = new ScoreSet([KeyValuePair.Create(name, scores[name].clone().DetachFromDisposeScope())]);
                using var m = single.Allocate(one, SparsityFor(n, kept));
                parts.Add(KeyValuePair.Create(name, m[name].clone().DetachFromDisposeScope()));
            }

            return new MaskSet(parts);
        }

        private static ScoreSet Exclude(ScoreSet raw, MaskSet mask)
        {
            var parts = new List<KeyValuePair<string, Tensor>>(raw.LayerCount);
            foreach (var (name, score) in raw.Entries)
            {
                using var scope = NewDisposeScope();
                parts.Add(KeyValuePair.Create(name, score.masked_fill(mask[name].to(score.device).logical_not(), double.NegativeInfinity).DetachFromDisposeScope()));
            }

            return new ScoreSet(parts);
        }

        private MaskSet RandomMask(MaskSet ticket, long seed)
        {
            using var generator = new Generator((ulong)seed);
            if (_o.Allocation is NMAllocation nm)
            {
                return RandomNMMask(ticket, nm, generator);
            }

            var single = new GlobalAllocation(allowEmptyLayers: true);
            var parts = new List<KeyValuePair<string, Tensor>>();
            foreach (var (name, m) in ticket.Entries)
            {
                long n = m.numel();
                using var random = rand(m.shape, generator: generator).to(m.device);
                using var one = new ScoreSet([KeyValuePair.Create(name, random.clone().DetachFromDisposeScope())]);
                using var chosen = single.Allocate(one, SparsityFor(n, ticket.KeptIn(name)));
                parts.Add(KeyValuePair.Create(name, chosen[name].clone().DetachFromDisposeScope()));
            }

            return new MaskSet(parts);
        }

        /// <summary>The random control of an N:M ticket: random scores cut by the same N:M allocation (N per group, random positions).</summary>
        private static MaskSet RandomNMMask(MaskSet ticket, NMAllocation nm, Generator generator)
        {
            using var random = new ScoreSet(ticket.Entries
                .Select(e => KeyValuePair.Create(e.Key, rand(e.Value.shape, generator: generator).to(e.Value.device).DetachFromDisposeScope())).ToList());
            return nm.Allocate(random, nm.Pattern.Sparsity);
        }
    }
}
