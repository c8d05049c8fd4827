namespace Sparsity.Structured;

/// <summary>One score per channel of every removable group (higher = keep); fixed groups have no scores.</summary>
public sealed class ChannelScores
{
    private readonly float[]?[] _scores;

    /// <summary>Creates scores for <paramref name="graph"/>.</summary>
    /// <param name="graph">The graph.</param>
    /// <param name="scores">Per group: one finite score per channel for a removable group, null for a fixed one.</param>
    /// <exception cref="ArgumentException">Counts do not match or a score is not finite (the group is named).</exception>
    public ChannelScores(ChannelDependencyGraph graph, IReadOnlyList<float[]?> scores)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count != graph.Groups.Count)
        {
            throw new ArgumentException($"{scores.Count} score vectors for {graph.Groups.Count} groups.", nameof(scores));
        }

        _scores = new float[]?[scores.Count];
        for (var g = 0; g < scores.Count; g++)
        {
            var group = graph.Groups[g];
            if (!group.Removable)
            {
                continue;
            }

            var s = scores[g] ?? throw new ArgumentException($"Removable group {g} has no scores.", nameof(scores));
            if (s.Length != group.ChannelCount || s.Any(v => !float.IsFinite(v)))
            {
                throw new ArgumentException($"Group {g} needs {group.ChannelCount} finite scores; got {s.Length}.", nameof(scores));
            }

            _scores[g] = (float[])s.Clone();
        }

        Fingerprint = graph.Fingerprint;
    }

    /// <summary>The fingerprint of the graph the scores belong to.</summary>
    public string Fingerprint { get; }

    /// <summary>The scores of one group, or null for a fixed group.</summary>
    /// <param name="group">The group index.</param>
    /// <returns>A copy of the scores, or null.</returns>
    public float[]? Of(int group) => (float[]?)_scores[group]?.Clone();
}
