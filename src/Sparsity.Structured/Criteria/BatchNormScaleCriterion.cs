using Sparsity.Data;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>
/// Batch-norm scale (Liu et al., "Learning Efficient Convolutional Networks through Network Slimming", ICCV 2017,
/// §3.2: the scaling factor γ as channel importance): a group channel scores Σ |γ| over its batch-norm members.
/// A removable group without an affine batch norm is rejected (the exception names it). Data-free.
/// </summary>
public sealed class BatchNormScaleCriterion : IChannelCriterion
{
    /// <inheritdoc/>
    public string Name => "bn-gamma";

    /// <inheritdoc/>
    public ChannelScores Score(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, IEnumerable<Batch>? batches = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(graph);
        return ParameterRows.Aggregate(model, graph, (_, module, role) =>
        {
            if (role != ChannelRole.Norm || module is not NormBase { weight: { } gamma })
            {
                return null;
            }

            using var abs = gamma.detach().abs().cpu();
            return abs.data<float>().ToArray();
        }, requireContribution: true, Name);
    }
}
