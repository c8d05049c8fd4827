using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Structured;

/// <summary>
/// Finds the channel dependency groups of a running model without knowing its architecture: the coupling that
/// DepGraph (Fang et al., "DepGraph: Towards Any Structural Pruning", CVPR 2023) reads from a traced graph is
/// measured here by probing, because TorchSharp has no tracer.
/// </summary>
/// <remarks>
/// <para>Method. One recorded forward pass stores every layer's input and output. Then each output channel of every
/// convolution and linear layer, and each channel of the network input, is perturbed alone (+M on the whole
/// channel, M = 1 + 2·max|recorded output|, so every ReLU-like activation and max-pool passes it) while every
/// other convolution and linear layer replays its recorded output and every batch norm passes changes through
/// channel by channel. The input channels of convolutions, linear layers and batch norms that move are coupled to the
/// perturbed channel (union-find): what the model's own tensor arithmetic does between layers (residual additions,
/// concatenation, padding, pooling, flatten) decides the coupling. A grouped convolution couples the input and output
/// channels of each of its groups. Probes run as batch elements, many per forward pass.</para>
/// <para>Channels that carry the network input or reach the network output, channels not produced by any probed
/// layer (constants, zero padding) and layers the forward pass does not call are not removable. With
/// <see cref="ChannelDiscoveryOptions.VerifyGroups"/> each removable group is then checked by removing its first
/// channel physically and comparing the logits with the channel-masked model. See <c>docs/structured.md</c> for the limits.</para>
/// </remarks>
public sealed class ChannelDependencyDiscovery
{
    private readonly ChannelDiscoveryOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the discovery.</summary>
    /// <param name="options">Options; null for the defaults.</param>
    /// <param name="logger">Logger; null for none.</param>
    public ChannelDependencyDiscovery(ChannelDiscoveryOptions? options = null, ILogger<ChannelDependencyDiscovery>? logger = null)
    {
        _options = options ?? new ChannelDiscoveryOptions();
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Discovers the groups. The model's weights are not changed; its train/eval flags are restored.</summary>
    /// <param name="model">The model (its parameters on one device).</param>
    /// <param name="cancellationToken">Cancels between probe batches.</param>
    /// <returns>The groups.</returns>
    /// <exception cref="NotSupportedException">A module that owns parameters but is not a supported layer, or a layer
    /// called more than once per forward pass; the message names the module.</exception>
    public ChannelDependencyGraph Discover(nn.Module<Tensor, Tensor> model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var entries = LayerAccess.Enumerate(model, nameof(model));
        var layers = entries.Select(e => e.Layer).ToList();
        var device = model.parameters().First().device;
        var inputChannels = _options.InputShape[1];
        var slots = new SlotMap(layers, inputChannels);
        var uf = new UnionFind(slots.Count);
        CoupleConvolutionGroups(layers, slots, uf);

        var flags = model.modules().Select(m => m.training).ToList();
        var rootTraining = model.training;
        bool[] reached;
        var reachesOutput = new HashSet<long>();
        try
        {
            model.eval();
            using var noGrad = no_grad();
            reached = Probe(model, entries, slots, uf, reachesOutput, device, cancellationToken);
        }
        finally
        {
            RestoreTraining(model, rootTraining, flags);
        }

        var groups = BuildGroups(layers, slots, uf, reached, reachesOutput);
        var graph = new ChannelDependencyGraph(layers, groups);
        if (_options.VerifyGroups)
        {
            graph = GroupVerifier.Verify(model, graph, _options, device, _logger, cancellationToken);
        }

        _logger.LogInformation("Channel discovery: {Layers} layers, {Groups} groups, {Removable} removable ({Channels} prunable channels).",
            layers.Count, graph.Groups.Count, graph.RemovableGroups.Count(), graph.PrunableChannelCount);
        return graph;
    }

    internal static void RestoreTraining(nn.Module model, bool rootTraining, List<bool> flags)
    {
        model.train(rootTraining);
        var i = 0;
        foreach (var m in model.modules())
        {
            m.train(flags[i++]);
        }
    }

    private static void CoupleConvolutionGroups(List<ChannelLayer> layers, SlotMap slots, UnionFind uf)
    {
        for (var i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            if (l.Groups <= 1)
            {
                continue;
            }

            var a = l.InputChannels / l.Groups;
            var b = l.OutputChannels / l.Groups;
            for (long g = 0; g < l.Groups; g++)
            {
                var anchor = slots.Slot(i, ChannelRole.Input, g * a);
                for (long c = 0; c < a; c++)
                {
                    uf.Union(anchor, slots.Slot(i, ChannelRole.Input, (g * a) + c));
                }

                for (long c = 0; c < b; c++)
                {
                    uf.Union(anchor, slots.Slot(i, ChannelRole.Output, (g * b) + c));
                }
            }
        }
    }

    private bool[] Probe(nn.Module<Tensor, Tensor> model, List<(ChannelLayer Layer, nn.Module<Tensor, Tensor> Module)> entries,
        SlotMap slots, UnionFind uf, HashSet<long> reachesOutput, Device device, CancellationToken cancellationToken)
    {
        var layers = entries.Select(e => e.Layer).ToList();
        using var session = new ProbeSession(entries, slots);
        var generator = new Generator((ulong)_options.Seed);
        using var x = randn(_options.InputShape.ToArray(), generator: generator).to(device);
        generator.Dispose();
        using var baseOutput = model.call(x).detach().clone();
        var reached = new bool[layers.Count];
        for (var i = 0; i < layers.Count; i++)
        {
            if (session.Calls[i] > 1)
            {
                throw new NotSupportedException(
                    $"Module '{layers[i].Name}' is called {session.Calls[i]} times in one forward pass; structured pruning needs every " +
                    "Conv/Linear/BatchNorm module to be called once (shared modules cannot be resized for one use only).");
            }

            reached[i] = session.Calls[i] == 1;
        }

        var inputMagnitude = 1 + (2 * x.abs().max().ToDouble());
        var probes = new List<(int Layer, long Channel, double Magnitude, long Source)>();
        for (long c = 0; c < slots.InputChannels; c++)
        {
            probes.Add((-1, c, inputMagnitude, slots.InputBase + c));
        }

        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i].IsNorm || !reached[i])
            {
                continue;
            }

            var magnitude = 1 + (2 * session.BaseOutput(i)!.abs().max().ToDouble());
            for (long c = 0; c < layers[i].OutputChannels; c++)
            {
                probes.Add((i, c, magnitude, slots.Slot(i, ChannelRole.Output, c)));
            }
        }

        session.Recording = false;
        reachesOutput.Clear();
        var batchSize = _options.ProbeBatchSize;
        for (var start = 0; start < probes.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var batch = probes.Skip(start).Take(batchSize).ToList();
            var perturb = new Dictionary<int, List<(int K, long Channel, double Magnitude)>>();
            var shape = _options.InputShape.ToArray();
            shape[0] = batch.Count;
            var input = x.expand(shape).clone();
            for (var k = 0; k < batch.Count; k++)
            {
                var (layer, channel, magnitude, _) = batch[k];
                if (layer < 0)
                {
                    input.narrow(0, k, 1).narrow(1, channel, 1).add_(magnitude);
                }
                else
                {
                    if (!perturb.TryGetValue(layer, out var list))
                    {
                        perturb[layer] = list = [];
                    }

                    list.Add((k, channel, magnitude));
                }
            }

            var thresholds = tensor(batch.Select(p => (float)(p.Magnitude * 1e-6)).ToArray(), device: device).unsqueeze(1);
            var inputPerturbed = batch.Any(p => p.Layer < 0);
            Tensor output;
            try
            {
                session.SetBatch(batch.Count, perturb, thresholds, inputPerturbed, fullBatch: false);
                output = model.call(input);
            }
            catch (Exception e) when (e is not OperationCanceledException and not NotSupportedException)
            {
                // The model's arithmetic did not accept a batch-1 replay next to a full batch (an in-place
                // operation on the smaller tensor); run this batch with full batches everywhere.
                session.SetBatch(batch.Count, perturb, thresholds, inputPerturbed, fullBatch: true);
                output = model.call(input);
            }

            foreach (var (k, slot) in session.Moved)
            {
                uf.Union(batch[k].Source, slot);
            }

            var outShape = (long[])baseOutput.shape.Clone();
            outShape[0] = batch.Count;
            var outDiff = (output.expand(outShape) - baseOutput.expand(outShape)).abs().reshape(batch.Count, -1).amax(1);
            var outMoved = outDiff.gt(thresholds.squeeze(1)).cpu().data<bool>().ToArray();
            for (var k = 0; k < batch.Count; k++)
            {
                if (outMoved[k])
                {
                    reachesOutput.Add(batch[k].Source);
                }
            }
        }

        _logger.LogDebug("Channel discovery: {Probes} probes in batches of {Batch}.", probes.Count, batchSize);
        return reached;
    }

    private static List<ChannelGroup> BuildGroups(List<ChannelLayer> layers, SlotMap slots, UnionFind uf, bool[] reached, HashSet<long> reachesOutput)
    {
        // Sets of layer slots by root, in slot order (deterministic).
        var sets = new SortedDictionary<long, List<long>>();
        for (long s = 0; s < slots.LayerSlotCount; s++)
        {
            var root = uf.Find(s);
            if (!sets.TryGetValue(root, out var list))
            {
                sets[root] = list = [];
            }

            list.Add(s);
        }

        var inputRoots = new HashSet<long>();
        for (long c = 0; c < slots.InputChannels; c++)
        {
            inputRoots.Add(uf.Find(slots.InputBase + c));
        }

        var outputRoots = reachesOutput.Select(uf.Find).ToHashSet();

        // Group sets with the same signature (same layer sides, same multiplicities, same reason).
        var bySignature = new Dictionary<string, List<(Dictionary<(int, ChannelRole), List<long>> Members, string? Reason)>>();
        var order = new List<string>();
        foreach (var (root, members) in sets)
        {
            var byLayer = new Dictionary<(int, ChannelRole), List<long>>();
            var keys = new List<(int, ChannelRole)>();
            string? reason = null;
            var hasProducer = false;
            foreach (var s in members)
            {
                var (layer, role, channel) = slots.Decode(s);
                if (!byLayer.TryGetValue((layer, role), out var list))
                {
                    byLayer[(layer, role)] = list = [];
                    keys.Add((layer, role));
                }

                list.Add(channel);
                hasProducer |= role == ChannelRole.Output && reached[layer];
                if (!reached[layer])
                {
                    reason ??= $"layer '{layers[layer].Name}' is not called by the forward pass";
                }
            }

            if (inputRoots.Contains(root))
            {
                reason = "carries the network input";
            }
            else if (outputRoots.Contains(root))
            {
                reason = "reaches the network output";
            }
            else if (!hasProducer && reason is null)
            {
                reason = "not produced by any convolution or linear layer (the input, a constant or zero padding)";
            }

            keys.Sort();
            var signature = string.Join(";", keys.Select(k => $"{k.Item1}.{k.Item2}x{byLayer[k].Count}")) + "|" + reason;
            if (!bySignature.TryGetValue(signature, out var groupSets))
            {
                bySignature[signature] = groupSets = [];
                order.Add(signature);
            }

            groupSets.Add((byLayer, reason));
        }

        var groups = new List<ChannelGroup>();
        foreach (var signature in order)
        {
            var groupSets = bySignature[signature];
            var keys = groupSets[0].Members.Keys.OrderBy(k => k.Item1).ThenBy(k => k.Item2 == ChannelRole.Input ? 0 : 1).ToList();
            var members = keys.Select(k => new ChannelGroupMember(layers[k.Item1].Name, k.Item2,
                groupSets.Select(set => (IReadOnlyList<long>)set.Members[k].ToArray()).ToArray())).ToArray();
            var reason = groupSets[0].Reason;
            groups.Add(new ChannelGroup(groups.Count, groupSets.Count, members, reason is null, reason));
        }

        return groups;
    }
}
