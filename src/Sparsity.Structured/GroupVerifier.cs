using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>
/// Checks every removable group by removing its first channel physically (the real <c>forward</c> on the smaller
/// layers) and comparing the logits with the channel-masked model on the probe input; a group whose removal throws
/// or changes the logits beyond the tolerance is marked not removable, with the reason. The model is restored.
/// </summary>
internal static class GroupVerifier
{
    internal static ChannelDependencyGraph Verify(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, ChannelDiscoveryOptions options,
        Device device, ILogger logger, CancellationToken cancellationToken)
    {
        var entries = ChannelCompactor.MatchLayers(model, graph, nameof(graph));
        var flags = model.modules().Select(m => m.training).ToList();
        var rootTraining = model.training;
        var verdicts = new string?[graph.Groups.Count];
        try
        {
            model.eval();
            using var noGrad = no_grad();
            using var generator = new Generator((ulong)options.Seed + 1);
            using var x = randn(options.InputShape.ToArray(), generator: generator).to(device);
            foreach (var group in graph.Groups)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!group.Removable)
                {
                    continue;
                }

                if (group.ChannelCount == 1)
                {
                    verdicts[group.Index] = "a single channel; removing it would empty its layers";
                    continue;
                }

                verdicts[group.Index] = Check(model, graph, entries, group, x, options.VerificationTolerance);
                if (verdicts[group.Index] is { } reason)
                {
                    logger.LogDebug("Channel group {Group} is not removable: {Reason}", group.Index, reason);
                }
            }
        }
        finally
        {
            ChannelDependencyDiscovery.RestoreTraining(model, rootTraining, flags);
        }

        var groups = graph.Groups.Select(g => verdicts[g.Index] is { } reason ? g with { Removable = false, Reason = reason } : g).ToList();
        return new ChannelDependencyGraph(graph.Layers, groups);
    }

    private static string? Check(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph,
        List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> entries, ChannelGroup group, Tensor x, double tolerance)
    {
        using var scope = NewDisposeScope();
        var kept = graph.Groups.Select(g => (IReadOnlyList<bool>)Enumerable.Range(0, g.ChannelCount).Select(j => g.Index != group.Index || j != 0).ToArray()).ToArray();
        var mask = new ChannelMask(graph, kept);
        Tensor reference;
        using (ChannelMaskedModel.Attach(model, graph, mask))
        {
            reference = model.call(x);
        }

        var touched = group.Members.Select(m => m.Layer).ToHashSet();
        var affected = entries.Where(e => touched.Contains(e.Layer.Name)).ToList();
        var snapshot = ChannelCompactor.Snapshot(affected);
        try
        {
            ChannelCompactor.Apply(affected, mask.KeptIndices(graph));
            var compact = model.call(x);
            if (!compact.shape.SequenceEqual(reference.shape))
            {
                return $"removing a channel changes the output shape to [{string.Join(", ", compact.shape)}]";
            }

            var error = (compact - reference).abs().max().ToDouble();
            var scale = 1 + reference.abs().max().ToDouble();
            return error / scale > tolerance
                ? $"removing a channel physically changes the logits by {error:G3} against the channel-masked model (an operation the probes cannot see)"
                : null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or System.Runtime.InteropServices.ExternalException)
        {
            return $"the forward pass fails on the smaller layers ({e.Message.Split('\n')[0].Trim()})";
        }
        finally
        {
            ChannelCompactor.Restore(snapshot);
        }
    }
}
