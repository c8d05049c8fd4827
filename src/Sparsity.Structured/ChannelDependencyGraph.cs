using System.Security.Cryptography;
using System.Text;

namespace Sparsity.Structured;

/// <summary>
/// The channel dependency groups of one model (found by <see cref="ChannelDependencyDiscovery"/>): which channels
/// must be removed together, and which may not be removed at all.
/// </summary>
public sealed class ChannelDependencyGraph
{
    private readonly Dictionary<(string, ChannelRole), List<(int Group, ChannelGroupMember Member)>> _byLayer;

    internal ChannelDependencyGraph(IReadOnlyList<ChannelLayer> layers, IReadOnlyList<ChannelGroup> groups)
    {
        Layers = layers;
        Groups = groups;
        _byLayer = [];
        foreach (var g in groups)
        {
            foreach (var m in g.Members)
            {
                var key = (m.Layer, m.Role);
                if (!_byLayer.TryGetValue(key, out var list))
                {
                    _byLayer[key] = list = [];
                }

                list.Add((g.Index, m));
            }
        }

        Fingerprint = ComputeFingerprint(layers, groups);
    }

    /// <summary>The prunable layers (Conv1d/Conv2d/Linear/BatchNorm), in module order, with the widths seen.</summary>
    public IReadOnlyList<ChannelLayer> Layers { get; }

    /// <summary>Every group, removable or not; together they cover every channel of every layer side exactly once.</summary>
    public IReadOnlyList<ChannelGroup> Groups { get; }

    /// <summary>The groups whose channels may be removed.</summary>
    public IEnumerable<ChannelGroup> RemovableGroups => Groups.Where(g => g.Removable);

    /// <summary>Channels in removable groups (the denominator of a channel sparsity).</summary>
    public long PrunableChannelCount => RemovableGroups.Sum(g => (long)g.ChannelCount);

    /// <summary>A hash of the layers and groups; a <see cref="ChannelMask"/> carries it to catch a mask from another model.</summary>
    public string Fingerprint { get; }

    /// <summary>The layer of a module name, or null.</summary>
    /// <param name="name">The module name.</param>
    /// <returns>The layer or null.</returns>
    public ChannelLayer? Layer(string name) => Layers.FirstOrDefault(l => l.Name == name);

    /// <summary>The groups that hold channels of one layer side, with the member entries.</summary>
    /// <param name="layer">The module name.</param>
    /// <param name="role">The side.</param>
    /// <returns>Group index and member pairs (empty for an unknown layer).</returns>
    public IReadOnlyList<(int Group, ChannelGroupMember Member)> GroupsOf(string layer, ChannelRole role) =>
        _byLayer.TryGetValue((layer, role), out var list) ? list : [];

    /// <summary>A human-readable listing of the groups, one per line.</summary>
    /// <returns>The text.</returns>
    public string Describe() => string.Join(Environment.NewLine, Groups.Select(g => g.ToString()));

    private static string ComputeFingerprint(IReadOnlyList<ChannelLayer> layers, IReadOnlyList<ChannelGroup> groups)
    {
        var text = new StringBuilder();
        foreach (var l in layers)
        {
            text.Append(l.Name).Append(':').Append(l.Kind).Append(':').Append(l.InputChannels).Append(':').Append(l.OutputChannels).Append(':').Append(l.Groups).Append(';');
        }

        foreach (var g in groups)
        {
            text.Append('|').Append(g.ChannelCount).Append(g.Removable ? 'r' : 'f');
            foreach (var m in g.Members)
            {
                text.Append(m.Layer).Append('.').Append(m.Role).Append('=');
                foreach (var ch in m.Channels)
                {
                    text.Append(string.Join(',', ch)).Append('/');
                }
            }
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16].ToLowerInvariant();
    }
}
