using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>Scores every channel of every removable group of a model (higher = keep).</summary>
public interface IChannelCriterion
{
    /// <summary>Short name for tables (e.g. <c>l1</c>).</summary>
    string Name { get; }

    /// <summary>Scores the channels. Weights are not changed.</summary>
    /// <param name="model">The model the graph was discovered on.</param>
    /// <param name="graph">Its channel groups.</param>
    /// <param name="batches">Training batches for data-dependent criteria (ignored by data-free ones).</param>
    /// <returns>The scores.</returns>
    ChannelScores Score(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, IEnumerable<Batch>? batches = null);
}
