using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sparsity.Data;
using Sparsity.Search;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>The result of a channel jackpot search.</summary>
/// <param name="Mask">The channel mask found (same kept count per group as the start).</param>
/// <param name="Scores">The trained scores.</param>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="AcceptedSwaps">Channel swaps (one revived, one dropped) accepted over the search.</param>
public sealed record ChannelJackpotResult(ChannelMask Mask, ChannelScores Scores, long Steps, long AcceptedSwaps);

/// <summary>
/// Lottery jackpots at channel granularity (Zhang et al., "Lottery Jackpots Exist in Pre-trained Models", TPAMI 2023,
/// §3, applied to group channels instead of weights): one score per channel of every removable group, the
/// pre-trained weights frozen (the model runs in eval mode; BatchNorm as <see cref="ChannelJackpotOptions.BatchNorm"/> says), a straight-through estimator
/// (the forward pass uses the binary mask m, the backward pass treats m as the score s: m + s − sg(s)), scores started
/// from the L1 filter norm of the start mask's criterion (divided by each group's largest), and after every step each
/// group keeps its k best-scored channels, with the swaps limited by the restriction policy (short restriction by
/// default) through Sparsity.Search's <see cref="IRestrictionPolicy"/> and exact top-k selection.
/// </summary>
public sealed class ChannelJackpotSearcher
{
    private readonly ChannelJackpotOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the searcher.</summary>
    /// <param name="options">Options; null for the defaults.</param>
    /// <param name="logger">Logger; null for none.</param>
    public ChannelJackpotSearcher(ChannelJackpotOptions? options = null, ILogger<ChannelJackpotSearcher>? logger = null)
    {
        _options = options ?? new ChannelJackpotOptions();
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Searches a channel mask with the same kept count per group as <paramref name="start"/>.</summary>
    /// <param name="model">The pre-trained model (not compacted); its parameters are left bit-identical, and its buffers too
    /// unless <see cref="ChannelJackpotOptions.BatchNorm"/> updates the running statistics.</param>
    /// <param name="graph">Its channel groups.</param>
    /// <param name="start">The start mask (e.g. L1 allocation); fixes the kept counts.</param>
    /// <param name="initialScores">Start scores (e.g. the L1 scores the start mask came from).</param>
    /// <param name="train">Training data.</param>
    /// <param name="progress">Receives the epoch number after each epoch.</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    /// <returns>The mask and scores.</returns>
    /// <exception cref="ArgumentException">The mask or scores belong to another graph.</exception>
    public ChannelJackpotResult Search(nn.Module<Tensor, Tensor> model, ChannelDependencyGraph graph, ChannelMask start, ChannelScores initialScores,
        IDataset train, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(initialScores);
        ArgumentNullException.ThrowIfNull(train);
        start.EnsureFor(graph, nameof(start));
        if (initialScores.Fingerprint != graph.Fingerprint)
        {
            throw new ArgumentException("The initial scores were computed for another graph.", nameof(initialScores));
        }

        var entries = ChannelCompactor.MatchLayers(model, graph, nameof(graph));
        var device = model.parameters().First().device;
        var groups = graph.RemovableGroups.ToList();
        var scores = new Dictionary<int, Parameter>();
        var masks = new Dictionary<int, Tensor>();
        foreach (var g in groups)
        {
            var s = initialScores.Of(g.Index)!;
            var max = s.Select(Math.Abs).DefaultIfEmpty(0).Max();
            scores[g.Index] = new Parameter(tensor(s.Select(v => max > 0 ? v / max : v).ToArray(), device: device));
            masks[g.Index] = tensor(start.Kept(g.Index).ToArray(), device: device);
        }

        var flags = model.modules().Select(m => m.training).ToList();
        var rootTraining = model.training;
        var requiresGrad = model.parameters().Select(p => p.requires_grad).ToList();
        var hooks = new List<Action>();
        long steps = 0, accepted = 0;
        try
        {
            model.eval();
            if (_options.BatchNorm != BatchNormPolicy.Freeze)
            {
                TrainingModes.SetNormLayers(model, training: true);
            }

            foreach (var p in model.parameters())
            {
                p.requires_grad = false;
            }

            hooks.AddRange(GateHooks(entries, graph, groups, scores, masks));
            using var optimizer = optim.SGD(scores.Values, _options.LearningRate, momentum: _options.Momentum);
            var stepsPerEpoch = (int)((train.Count + _options.BatchSize - 1) / _options.BatchSize);
            if (_options.MaxStepsPerEpoch > 0)
            {
                stepsPerEpoch = Math.Min(stepsPerEpoch, _options.MaxStepsPerEpoch);
            }

            for (var epoch = 0; epoch < _options.Epochs; epoch++)
            {
                var step = 0;
                foreach (var batch in train.Batches(_options.BatchSize, device, shuffleSeed: _options.Seed + epoch))
                {
                    using var b = batch;
                    if (step >= stepsPerEpoch)
                    {
                        break;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var t = (epoch * stepsPerEpoch) + step;
                    var lr = 0.5 * _options.LearningRate * (1 + Math.Cos(Math.PI * t / (_options.Epochs * (double)stepsPerEpoch)));
                    foreach (var group in optimizer.ParamGroups)
                    {
                        group.LearningRate = lr;
                    }

                    optimizer.zero_grad();
                    var loss = nn.functional.cross_entropy(model.call(b.Inputs), b.Labels);
                    loss.backward();
                    optimizer.step();
                    using (no_grad())
                    {
                        foreach (var g in groups)
                        {
                            accepted += Reselect(g, scores[g.Index], masks[g.Index], epoch);
                        }
                    }

                    step++;
                    steps++;
                }

                _logger.LogInformation("Channel jackpot epoch {Epoch}/{Epochs}: {Swaps} swaps accepted so far.", epoch + 1, _options.Epochs, accepted);
                progress?.Report(epoch + 1);
            }

            if (_options.BatchNorm == BatchNormPolicy.RecalibrateAfter)
            {
                // The gates are still in place, so the statistics are those of the final masked model.
                BatchNormRecalibration.Run(model, train, _options.BatchSize, device, cancellationToken);
            }
        }
        finally
        {
            foreach (var remove in hooks)
            {
                remove();
            }

            var i = 0;
            foreach (var p in model.parameters())
            {
                p.requires_grad = requiresGrad[i++];
            }

            ChannelDependencyDiscovery.RestoreTraining(model, rootTraining, flags);
        }

        var kept = graph.Groups.Select(g => (IReadOnlyList<bool>)(masks.TryGetValue(g.Index, out var m) ? m.cpu().data<bool>().ToArray() : Enumerable.Repeat(true, g.ChannelCount).ToArray())).ToArray();
        var finalScores = new ChannelScores(graph, graph.Groups.Select(g => scores.TryGetValue(g.Index, out var s) ? s.detach().cpu().data<float>().ToArray() : null).ToArray());
        foreach (var t in scores.Values.Concat(masks.Values))
        {
            t.Dispose();
        }

        return new ChannelJackpotResult(new ChannelMask(graph, kept), finalScores, steps, accepted);
    }

    /// <summary>Keeps the group's k best-scored channels, accepting as many swaps as the restriction allows.</summary>
    private long Reselect(ChannelGroup group, Tensor scores, Tensor mask, int epoch)
    {
        var k = mask.count_nonzero().item<long>();
        var top = LayerSelection.ExactTopK(scores, k);
        var revive = top.Mask.logical_and(mask.logical_not()).nonzero().flatten();
        var drop = mask.logical_and(top.Mask.logical_not()).nonzero().flatten();
        var pairs = revive.numel();
        if (pairs == 0)
        {
            return 0;
        }

        var m = _options.Restriction.AcceptedPairs(new LayerProposal($"group{group.Index}", group.ChannelCount, k, pairs, top.BoundaryTie, epoch, _options.Epochs));
        if (m < 0 || m > pairs)
        {
            throw new InvalidOperationException($"Restriction policy {_options.Restriction.Description} accepted {m} of {pairs} pairs in group {group.Index}.");
        }

        if (m == 0)
        {
            return 0;
        }

        if (m < pairs)
        {
            revive = revive.index_select(0, scores.index_select(0, revive).topk((int)m).indexes);
            drop = drop.index_select(0, scores.index_select(0, drop).topk((int)m, largest: false).indexes);
        }

        mask.index_fill_(0, drop, false);
        mask.index_fill_(0, revive, true);
        return m;
    }

    /// <summary>Hooks that multiply every member's activations by the straight-through gate m + s − sg(s); the returned
    /// actions remove the hooks and free their index tensors.</summary>
    private static List<Action> GateHooks(List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> entries, ChannelDependencyGraph graph,
        List<ChannelGroup> groups, Dictionary<int, Parameter> scores, Dictionary<int, Tensor> masks)
    {
        var removable = groups.Select(g => g.Index).ToHashSet();
        var hooks = new List<Action>();
        foreach (var (layer, module) in entries)
        {
            foreach (var role in layer.Roles)
            {
                var members = graph.GroupsOf(layer.Name, role).Where(x => removable.Contains(x.Group)).ToList();
                if (members.Count == 0)
                {
                    continue;
                }

                var device = module.parameters().First().device;
                var width = layer.Width(role);
                // For each member: layer channel indices and the group channel each one comes from.
                var parts = members.Select(x =>
                {
                    var layerIdx = x.Member.Channels.SelectMany(c => c).ToArray();
                    var groupIdx = x.Member.Channels.SelectMany((c, j) => c.Select(_ => (long)j)).ToArray();
                    return (x.Group, Layer: tensor(layerIdx, device: device).DetachFromDisposeScope(), GroupIdx: tensor(groupIdx, device: device).DetachFromDisposeScope());
                }).ToList();
                foreach (var part in parts)
                {
                    hooks.Add(part.Layer.Dispose);
                    hooks.Add(part.GroupIdx.Dispose);
                }

                Tensor Gate(Tensor t)
                {
                    var gate = ones(width, device: device);
                    foreach (var (g, layerIdx, groupIdx) in parts)
                    {
                        var s = scores[g];
                        var ste = masks[g].to(s.dtype) + s - s.detach();
                        gate = gate.index_copy(0, layerIdx, ste.index_select(0, groupIdx));
                    }

                    var axis = LayerAccess.ChannelAxis(layer.Kind, t);
                    var shape = Enumerable.Repeat(1L, (int)t.dim()).ToArray();
                    shape[axis] = width;
                    return t * gate.to(t.dtype).view(shape);
                }

                if (role == ChannelRole.Output || role == ChannelRole.Norm)
                {
                    hooks.Add(module.register_forward_hook((_, _, output) => Gate(output)).remove);
                }
                else
                {
                    hooks.Add(module.register_forward_pre_hook((_, input) => Gate(input)).remove);
                }
            }
        }

        return hooks;
    }
}
