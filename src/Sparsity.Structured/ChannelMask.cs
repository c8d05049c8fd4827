namespace Sparsity.Structured;

/// <summary>
/// Which channels of every group of one <see cref="ChannelDependencyGraph"/> are kept. Channels of groups that are
/// not removable are always kept. Carries the graph's fingerprint, so a mask cannot be applied to another model.
/// </summary>
public sealed class ChannelMask
{
    private readonly bool[][] _kept;

    /// <summary>Creates a mask from one kept flag per group channel.</summary>
    /// <param name="graph">The graph the mask belongs to.</param>
    /// <param name="kept">Per group (all of <see cref="ChannelDependencyGraph.Groups"/>, in order), a flag per channel.</param>
    /// <exception cref="ArgumentException">Wrong counts, a removed channel in a fixed group, or a group emptied; the message names the group.</exception>
    public ChannelMask(ChannelDependencyGraph graph, IReadOnlyList<IReadOnlyList<bool>> kept)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(kept);
        if (kept.Count != graph.Groups.Count)
        {
            throw new ArgumentException($"The mask has {kept.Count} groups; the graph has {graph.Groups.Count}.", nameof(kept));
        }

        _kept = new bool[kept.Count][];
        for (var g = 0; g < kept.Count; g++)
        {
            var group = graph.Groups[g];
            if (kept[g] is null || kept[g].Count != group.ChannelCount)
            {
                throw new ArgumentException($"Group {g} has {group.ChannelCount} channels; the mask gives {kept[g]?.Count ?? 0}.", nameof(kept));
            }

            _kept[g] = kept[g].ToArray();
            var count = _kept[g].Count(k => k);
            if (!group.Removable && count != group.ChannelCount)
            {
                throw new ArgumentException($"Group {g} ({string.Join(", ", group.Members)}) is not removable ({group.Reason}); the mask removes channels from it.", nameof(kept));
            }

            if (count == 0)
            {
                throw new ArgumentException($"The mask removes every channel of group {g} ({string.Join(", ", group.Members)}), which would empty those layers; keep at least one.", nameof(kept));
            }
        }

        Fingerprint = graph.Fingerprint;
    }

    /// <summary>The fingerprint of the graph the mask was made for.</summary>
    public string Fingerprint { get; }

    /// <summary>Number of groups.</summary>
    public int GroupCount => _kept.Length;

    /// <summary>The kept flags of one group.</summary>
    /// <param name="group">The group index.</param>
    /// <returns>One flag per group channel.</returns>
    public IReadOnlyList<bool> Kept(int group) => _kept[group];

    /// <summary>Group channels removed in total.</summary>
    public long RemovedChannelCount => _kept.Sum(k => (long)k.Count(x => !x));

    /// <summary>The mask that keeps everything.</summary>
    /// <param name="graph">The graph.</param>
    /// <returns>The mask.</returns>
    public static ChannelMask KeepAll(ChannelDependencyGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return new ChannelMask(graph, graph.Groups.Select(g => (IReadOnlyList<bool>)Enumerable.Repeat(true, g.ChannelCount).ToArray()).ToArray());
    }

    /// <summary>Throws unless the mask was made for <paramref name="graph"/>.</summary>
    internal void EnsureFor(ChannelDependencyGraph graph, string argumentName)
    {
        if (Fingerprint != graph.Fingerprint || _kept.Length != graph.Groups.Count)
        {
            throw new ArgumentException(
                $"The channel mask was made for another model or another discovery (fingerprint {Fingerprint}, graph {graph.Fingerprint}); " +
                "make the mask from the graph of this model.", argumentName);
        }
    }

    /// <summary>Per layer side, the kept layer channels in ascending order.</summary>
    internal Dictionary<(string Layer, ChannelRole Role), long[]> KeptIndices(ChannelDependencyGraph graph)
    {
        var result = new Dictionary<(string, ChannelRole), long[]>();
        foreach (var layer in graph.Layers)
        {
            foreach (var role in layer.Roles)
            {
                var removed = new HashSet<long>();
                foreach (var (g, member) in graph.GroupsOf(layer.Name, role))
                {
                    for (var j = 0; j < member.Channels.Count; j++)
                    {
                        if (!_kept[g][j])
                        {
                            removed.UnionWith(member.Channels[j]);
                        }
                    }
                }

                var width = layer.Width(role);
                var kept = new long[width - removed.Count];
                var n = 0;
                for (long c = 0; c < width; c++)
                {
                    if (!removed.Contains(c))
                    {
                        kept[n++] = c;
                    }
                }

                result[(layer.Name, role)] = kept;
            }
        }

        return result;
    }
}
