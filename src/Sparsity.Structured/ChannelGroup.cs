namespace Sparsity.Structured;

/// <summary>One layer side inside a channel group, with the layer channels behind every group channel.</summary>
/// <param name="Layer">The module name.</param>
/// <param name="Role">Which side of the layer.</param>
/// <param name="Channels">For group channel <c>j</c>, the layer channels (features) removed with it, ascending.</param>
public sealed record ChannelGroupMember(string Layer, ChannelRole Role, IReadOnlyList<IReadOnlyList<long>> Channels)
{
    /// <summary>How many layer channels one group channel stands for (1, or e.g. H·W features after a flatten).</summary>
    public int Multiplicity => Channels.Count == 0 ? 0 : Channels[0].Count;

    /// <inheritdoc/>
    public override string ToString() => $"{Layer}.{Role.ToString().ToLowerInvariant()}×{Multiplicity}";
}

/// <summary>
/// A set of coupled channels: every group channel is one unit that is removed from all members at once
/// (a convolution's filter, its batch-norm channel, the matching input channels of every consumer and, through a
/// residual addition, the channels of every layer summed with it). Channels of one group share the same members.
/// </summary>
/// <param name="Index">Position in <see cref="ChannelDependencyGraph.Groups"/>.</param>
/// <param name="ChannelCount">Number of group channels.</param>
/// <param name="Members">The layer sides in the group, in the model's module order.</param>
/// <param name="Removable">False when the channels must stay (network input, classifier output, a failed check).</param>
/// <param name="Reason">Why the group is not removable; null when it is.</param>
public sealed record ChannelGroup(int Index, int ChannelCount, IReadOnlyList<ChannelGroupMember> Members, bool Removable, string? Reason)
{
    /// <summary>The member for a layer side, or null.</summary>
    /// <param name="layer">The module name.</param>
    /// <param name="role">The side.</param>
    /// <returns>The member or null.</returns>
    public ChannelGroupMember? Member(string layer, ChannelRole role) =>
        Members.FirstOrDefault(m => m.Layer == layer && m.Role == role);

    /// <inheritdoc/>
    public override string ToString() =>
        $"group {Index}: {ChannelCount} ch [{string.Join(", ", Members)}]" + (Removable ? string.Empty : $" fixed: {Reason}");
}
