namespace Sparsity.Structured;

/// <summary>How a channel sparsity is spread over the groups.</summary>
public enum ChannelAllocationMode
{
    /// <summary>One threshold over the scores of all removable groups (scores must be comparable across groups).</summary>
    Global = 0,

    /// <summary>The same fraction ⌊s·n⌋ removed from every removable group (Li et al. 2017's per-layer scheme).</summary>
    Uniform = 1,
}

/// <summary>Options of <see cref="ChannelAllocation"/>.</summary>
public sealed record ChannelAllocationOptions
{
    /// <summary>Global or uniform. Default uniform.</summary>
    public ChannelAllocationMode Mode { get; init; } = ChannelAllocationMode.Uniform;

    /// <summary>Channels every removable group keeps at least (the floor per layer: a group channel is one channel of
    /// each of its layers). Default 1; at least 1, so no layer is ever emptied.</summary>
    public int MinChannelsPerGroup { get; init; } = 1;

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The option named in the message.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Mode must be Global or Uniform.");
        }

        if (MinChannelsPerGroup < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MinChannelsPerGroup), MinChannelsPerGroup, "MinChannelsPerGroup must be at least 1 (0 would empty layers).");
        }
    }
}

/// <summary>
/// Turns channel scores into a <see cref="ChannelMask"/> that removes ⌊s·N⌋ of the N prunable channels (global) or
/// ⌊s·n⌋ of every group's n channels (uniform), lowest scores first; ties keep the lower channel index.
/// </summary>
public static class ChannelAllocation
{
    /// <summary>Allocates the mask.</summary>
    /// <param name="graph">The graph.</param>
    /// <param name="scores">Scores for the graph.</param>
    /// <param name="sparsity">Fraction of prunable channels to remove, in [0, 1).</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <returns>The mask.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1) or would leave a group
    /// below the floor (the message names the group).</exception>
    /// <exception cref="ArgumentException">The scores belong to another graph.</exception>
    public static ChannelMask Allocate(ChannelDependencyGraph graph, ChannelScores scores, double sparsity, ChannelAllocationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(scores);
        options ??= new ChannelAllocationOptions();
        options.Validate();
        if (!(sparsity >= 0 && sparsity < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "sparsity must be in [0, 1) (1 would empty every layer).");
        }

        if (scores.Fingerprint != graph.Fingerprint)
        {
            throw new ArgumentException("The scores were computed for another graph.", nameof(scores));
        }

        var floor = options.MinChannelsPerGroup;
        var kept = graph.Groups.Select(g => Enumerable.Repeat(true, g.ChannelCount).ToArray()).ToArray();
        var candidates = new List<(float Score, int Group, int Channel)>();
        foreach (var g in graph.RemovableGroups)
        {
            var s = scores.Of(g.Index)!;
            var order = Enumerable.Range(0, g.ChannelCount).OrderBy(j => s[j]).ThenByDescending(j => j).ToList();
            if (options.Mode == ChannelAllocationMode.Uniform)
            {
                var remove = (int)Math.Floor((decimal)sparsity * g.ChannelCount);
                if (g.ChannelCount - remove < Math.Min(floor, g.ChannelCount))
                {
                    throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity,
                        $"sparsity {sparsity} leaves group {g.Index} ({string.Join(", ", g.Members)}) with {g.ChannelCount - remove} of {g.ChannelCount} channels, below the floor of {floor}.");
                }

                foreach (var j in order.Take(remove))
                {
                    kept[g.Index][j] = false;
                }
            }
            else
            {
                candidates.AddRange(order.Select(j => (s[j], g.Index, j)));
            }
        }

        if (options.Mode == ChannelAllocationMode.Global)
        {
            var total = (long)Math.Floor((decimal)sparsity * graph.PrunableChannelCount);
            var left = graph.Groups.Select(g => g.ChannelCount).ToArray();
            long removed = 0;
            foreach (var (_, g, j) in candidates.OrderBy(c => c.Score).ThenBy(c => c.Group).ThenByDescending(c => c.Channel))
            {
                if (removed == total)
                {
                    break;
                }

                if (left[g] <= floor)
                {
                    continue;
                }

                kept[g][j] = false;
                left[g]--;
                removed++;
            }

            if (removed < total)
            {
                throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity,
                    $"sparsity {sparsity} removes {total} channels, but the floor of {floor} per group allows only {removed}.");
            }
        }

        return new ChannelMask(graph, kept.Select(k => (IReadOnlyList<bool>)k).ToArray());
    }
}
