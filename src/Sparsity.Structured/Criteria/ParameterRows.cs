using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>Sums per-channel quantities of a group's members (filters of producers, batch-norm channels).</summary>
internal static class ParameterRows
{
    /// <summary>
    /// For each removable group channel, Σ over the members of <paramref name="perChannel"/>(module, role) evaluated
    /// at the member's layer channels. <paramref name="perChannel"/> returns one value per layer channel, or null
    /// when the member does not contribute.
    /// </summary>
    internal static ChannelScores Aggregate(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph,
        Func<ChannelLayer, nn.Module, ChannelRole, float[]?> perChannel, bool requireContribution, string criterion)
    {
        var modules = ChannelCompactor.MatchLayers(model, graph, nameof(graph)).ToDictionary(e => e.Layer.Name, e => (e.Layer, (nn.Module)e.Module));
        var cache = new Dictionary<(string, ChannelRole), float[]?>();
        var result = new float[]?[graph.Groups.Count];
        foreach (var group in graph.RemovableGroups)
        {
            var scores = new float[group.ChannelCount];
            var contributed = false;
            foreach (var member in group.Members)
            {
                var key = (member.Layer, member.Role);
                if (!cache.TryGetValue(key, out var values))
                {
                    var (layer, module) = modules[member.Layer];
                    cache[key] = values = perChannel(layer, module, member.Role);
                }

                if (values is null)
                {
                    continue;
                }

                contributed = true;
                for (var j = 0; j < group.ChannelCount; j++)
                {
                    foreach (var c in member.Channels[j])
                    {
                        scores[j] += values[c];
                    }
                }
            }

            if (!contributed && requireContribution)
            {
                throw new ArgumentException($"Group {group.Index} ({string.Join(", ", group.Members)}) has no member the {criterion} criterion can score.", nameof(graph));
            }

            result[group.Index] = scores;
        }

        return new ChannelScores(graph, result);
    }

    /// <summary>Per output channel, Σ |w| over the filter (a convolution's or linear layer's weight row).</summary>
    internal static float[]? FilterL1(nn.Module module, ChannelRole role)
    {
        if (role != ChannelRole.Output)
        {
            return null;
        }

        using var scope = NewDisposeScope();
        var w = module switch
        {
            Convolution conv => conv.weight,
            Linear linear => linear.weight,
            _ => null,
        };
        return w?.detach().abs().reshape(w.shape[0], -1).sum(1).cpu().data<float>().ToArray();
    }
}
