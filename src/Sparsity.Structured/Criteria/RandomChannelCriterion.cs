using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>Uniform random scores in [0, 1) from a seed (the control every structured pruning paper compares with).</summary>
/// <param name="seed">The seed; the same seed gives the same scores.</param>
public sealed class RandomChannelCriterion(int seed = 0) : IChannelCriterion
{
    /// <inheritdoc/>
    public string Name => "random";

    /// <inheritdoc/>
    public ChannelScores Score(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, IEnumerable<Batch>? batches = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var random = new Random(seed);
        return new ChannelScores(graph, graph.Groups.Select(g => g.Removable ? Enumerable.Range(0, g.ChannelCount).Select(_ => random.NextSingle()).ToArray() : null).ToArray());
    }
}
