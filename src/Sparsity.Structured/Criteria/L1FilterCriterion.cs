using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>
/// L1 norm of filters (Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017, §3.1: s_j = Σ|F_j|): a group
/// channel scores the sum over its members' filters (every convolution or linear layer whose output channel it is)
/// of the absolute weights. Data-free.
/// </summary>
public sealed class L1FilterCriterion : IChannelCriterion
{
    /// <inheritdoc/>
    public string Name => "l1";

    /// <inheritdoc/>
    public ChannelScores Score(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, IEnumerable<Batch>? batches = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(graph);
        return ParameterRows.Aggregate(model, graph, (_, module, role) => ParameterRows.FilterL1(module, role), requireContribution: true, Name);
    }
}
