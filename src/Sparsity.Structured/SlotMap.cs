namespace Sparsity.Structured;

/// <summary>Numbers every channel of every layer side (a slot), then the network-input channels.</summary>
internal sealed class SlotMap
{
    private readonly long[] _offset;

    internal SlotMap(IReadOnlyList<ChannelLayer> layers, long inputChannels)
    {
        Layers = layers;
        _offset = new long[layers.Count * 2];
        long next = 0;
        for (var i = 0; i < layers.Count; i++)
        {
            foreach (var role in layers[i].Roles)
            {
                _offset[(i * 2) + RoleIndex(role)] = next;
                next += layers[i].Width(role);
            }
        }

        LayerSlotCount = next;
        InputBase = next;
        InputChannels = inputChannels;
        Count = next + inputChannels;
    }

    internal IReadOnlyList<ChannelLayer> Layers { get; }

    internal long LayerSlotCount { get; }

    internal long InputBase { get; }

    internal long InputChannels { get; }

    internal long Count { get; }

    internal long Slot(int layer, ChannelRole role, long channel) => _offset[(layer * 2) + RoleIndex(role)] + channel;

    /// <summary>The layer, role and channel of a layer slot.</summary>
    internal (int Layer, ChannelRole Role, long Channel) Decode(long slot)
    {
        for (var i = Layers.Count - 1; i >= 0; i--)
        {
            foreach (var role in Layers[i].Roles.Reverse())
            {
                var o = _offset[(i * 2) + RoleIndex(role)];
                if (slot >= o && slot < o + Layers[i].Width(role))
                {
                    return (i, role, slot - o);
                }
            }
        }

        throw new ArgumentOutOfRangeException(nameof(slot));
    }

    private static int RoleIndex(ChannelRole role) => role == ChannelRole.Input ? 1 : 0;
}

/// <summary>Union-find with path halving; the root of a set is its smallest element, so results are deterministic.</summary>
internal sealed class UnionFind
{
    private readonly long[] _parent;

    internal UnionFind(long count)
    {
        _parent = new long[count];
        for (long i = 0; i < count; i++)
        {
            _parent[i] = i;
        }
    }

    internal long Find(long x)
    {
        while (_parent[x] != x)
        {
            _parent[x] = _parent[_parent[x]];
            x = _parent[x];
        }

        return x;
    }

    internal void Union(long a, long b)
    {
        var ra = Find(a);
        var rb = Find(b);
        if (ra == rb)
        {
            return;
        }

        if (ra < rb)
        {
            _parent[rb] = ra;
        }
        else
        {
            _parent[ra] = rb;
        }
    }
}
