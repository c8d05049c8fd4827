using Sparsity.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>
/// First-order Taylor importance (Molchanov et al., "Importance Estimation for Neural Network Pruning", CVPR 2019,
/// eq. 8: I_S = (Σ_{s∈S} g_s w_s)² for a group S of parameters): S is every parameter that belongs to the group
/// channel's output (its members' filters and biases, batch-norm γ and β); the squared sum is averaged over the
/// batches. Gradients of the cross-entropy loss; the model's train/eval mode is used as it is.
/// </summary>
/// <param name="maxBatches">Batches used at most (≥ 1).</param>
public sealed class TaylorCriterion(int maxBatches = 8) : IChannelCriterion
{
    /// <inheritdoc/>
    public string Name => "taylor";

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="batches"/> is null or empty.</exception>
    public ChannelScores Score(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, IEnumerable<Batch>? batches = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(graph);
        if (maxBatches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBatches), maxBatches, "maxBatches must be at least 1.");
        }

        if (batches is null)
        {
            throw new ArgumentException("The Taylor criterion needs training batches.", nameof(batches));
        }

        var sums = new float[]?[graph.Groups.Count];
        var count = 0;
        foreach (var batch in batches.Take(maxBatches))
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(batch.Inputs), batch.Labels);
            loss.backward();
            var perBatch = ParameterRows.Aggregate(model, graph, (_, module, role) => GradientTimesWeight(module, role), requireContribution: true, Name);
            foreach (var g in graph.RemovableGroups)
            {
                var s = perBatch.Of(g.Index)!;
                sums[g.Index] ??= new float[g.ChannelCount];
                for (var j = 0; j < s.Length; j++)
                {
                    sums[g.Index]![j] += s[j] * s[j];
                }
            }

            count++;
        }

        model.zero_grad();
        if (count == 0)
        {
            throw new ArgumentException("The Taylor criterion needs at least one batch.", nameof(batches));
        }

        return new ChannelScores(graph, sums.Select(s => s?.Select(v => v / count).ToArray()).ToArray());
    }

    private static float[]? GradientTimesWeight(nn.Module module, ChannelRole role)
    {
        using var scope = NewDisposeScope();
        Tensor? total = null;
        void Add(Tensor? p)
        {
            if (p?.grad is not { } g)
            {
                return;
            }

            var gw = (g * p.detach()).reshape(p.shape[0], -1).sum(1);
            total = total is null ? gw : total + gw;
        }

        switch (module)
        {
            case Convolution conv when role == ChannelRole.Output:
                Add(conv.weight);
                Add(conv.bias);
                break;
            case Linear linear when role == ChannelRole.Output:
                Add(linear.weight);
                Add(linear.bias);
                break;
            case NormBase bn when role == ChannelRole.Norm:
                Add(bn.weight);
                Add(bn.bias);
                break;
        }

        return total?.cpu().data<float>().ToArray();
    }
}
