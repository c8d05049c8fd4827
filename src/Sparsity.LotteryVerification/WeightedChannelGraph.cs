using Sparsity.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification;

/// <summary>
/// The weighted multi-layer channel graph of a masked network (docs/algorithms.md#channel-graphs): nodes are channels, layers
/// are chained in the given order (output channel j of one layer is input channel j of the next; residual
/// shortcuts are not modelled, as in the official code), and the edge of kernel (out j, in i) of a layer weighs
/// <c>w = Σ |W ⊙ M|[j, i, …]</c>.
/// </summary>
/// <remarks>
/// Path score (ours, replacing the paper's sampled unweighted edge betweenness, which ignores the sparsity in the
/// shipped code, docs/algorithms.md#quirks-of-the-official-code): the fraction of the total weight of all input-to-output paths that runs through
/// an edge, <c>s(e) = F[i] · w_e · G[j] / Z</c>, where F sums path weights from the first layer's inputs to a node,
/// G from a node to the last layer's outputs, and <c>Z = Σ F(last outputs)</c>. Exact, computed by one forward and
/// one backward pass in log space (no sampling, no overflow). Pruned kernels have weight 0 and score 0.
/// </remarks>
public sealed class WeightedChannelGraph
{
    private readonly List<Layer> _layers;

    private WeightedChannelGraph(List<Layer> layers) => _layers = layers;

    /// <summary>Layer names in chain order.</summary>
    public IReadOnlyList<string> Layers => _layers.Select(l => l.Name).ToList();

    /// <summary>ln Z: log of the total weight of all input-to-output paths (−∞ when every path is cut).</summary>
    public double LogTotalPathWeight { get; private set; }

    /// <summary>
    /// Builds the graph from a model's weights and masks, chaining the masked layers in mask order.
    /// </summary>
    /// <param name="model">The model (weights are read, not modified).</param>
    /// <param name="masks">Masks of the layers to chain; each must be a Conv or Linear weight of the model.</param>
    /// <param name="parameters">Prunable parameters; all Conv/Linear weights of the model when null.</param>
    /// <exception cref="ArgumentException">A mask does not fit the model.</exception>
    public static WeightedChannelGraph Build(nn.Module model, MaskSet masks, IReadOnlyList<PrunableParameter>? parameters = null)
    {
        var byName = MaskArrays.Resolve(model, masks, parameters);
        return Build(masks.Names.Select(n => (n, byName[n].Weight.detach(), masks[n])).ToList());
    }

    /// <summary>Builds the graph from (name, weight, mask) triples in chain order.</summary>
    /// <param name="layers">Each weight has shape [out, in, …] and its mask the same shape.</param>
    /// <exception cref="ArgumentException">No layer, or a weight and its mask differ in shape.</exception>
    public static WeightedChannelGraph Build(IReadOnlyList<(string Name, Tensor Weight, Tensor Mask)> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("A channel graph needs at least one layer.", nameof(layers));
        }

        var built = new List<Layer>();
        foreach (var (name, weight, mask) in layers)
        {
            if (!weight.shape.SequenceEqual(mask.shape))
            {
                throw new ArgumentException(
                    $"Layer '{name}': weight shape [{string.Join(", ", weight.shape)}] differs from mask shape [{string.Join(", ", mask.shape)}].",
                    nameof(layers));
            }

            long kernel = MaskArrays.KernelSize(weight.shape);
            var w = MaskArrays.FlatFloat(weight);
            var m = MaskArrays.Flat(mask);
            var edge = new double[weight.shape[0] * weight.shape[1]];
            for (int c = 0; c < edge.Length; c++)
            {
                double s = 0;
                for (long u = c * kernel, end = u + kernel; u < end; u++)
                {
                    if (m[u])
                    {
                        s += Math.Abs(w[u]);
                    }
                }

                edge[c] = s;
            }

            built.Add(new Layer(name, weight.shape, kernel, edge, w, m));
        }

        var graph = new WeightedChannelGraph(built);
        graph.ComputeFlows();
        return graph;
    }

    /// <summary>Edge weight Σ|W ⊙ M| of kernel (out, in) of layer <paramref name="layer"/>.</summary>
    /// <param name="layer">Layer name.</param>
    /// <param name="output">Output channel.</param>
    /// <param name="input">Input channel.</param>
    public double EdgeWeight(string layer, int output, int input)
    {
        var l = Find(layer);
        return l.Edge[l.Cell(output, input)];
    }

    /// <summary>Path score s(e) of kernel (out, in): the fraction of all path weight through that edge, in [0, 1].</summary>
    /// <param name="layer">Layer name.</param>
    /// <param name="output">Output channel.</param>
    /// <param name="input">Input channel.</param>
    public double PathScore(string layer, int output, int input)
    {
        var l = Find(layer);
        return Math.Exp(l.LogScore(l.Cell(output, input), LogTotalPathWeight));
    }

    /// <summary>
    /// Per-weight path scores: a kept weight w of kernel (j, i) gets <c>F[i] · |w| · G[j] / Z</c> (its share of the
    /// path weight), a pruned weight 0. Used by the key-mask scheme (<see cref="KeyMaskSplitter"/>).
    /// </summary>
    /// <param name="device">Device of the returned scores.</param>
    public ScoreSet WeightScores(Device? device = null)
    {
        var entries = new List<KeyValuePair<string, Tensor>>();
        foreach (var l in _layers)
        {
            var scores = new double[l.Weights.Length];
            for (int c = 0; c < l.Edge.Length; c++)
            {
                if (l.Edge[c] <= 0)
                {
                    continue;
                }

                int j = c / l.Columns;
                int i = c % l.Columns;
                double logPath = l.LogIn[i] + l.LogOut[j] - LogTotalPathWeight;
                for (long u = c * l.Kernel, end = u + l.Kernel; u < end; u++)
                {
                    if (l.Mask[u])
                    {
                        scores[u] = Math.Exp(logPath + Math.Log(Math.Abs(l.Weights[u])));
                    }
                }
            }

            using var scope = NewDisposeScope();
            var t = tensor(scores, ScalarType.Float64).reshape(l.Shape).to(device ?? CPU).clone();
            entries.Add(KeyValuePair.Create(l.Name, t.MoveToOuterDisposeScope().DetachFromDisposeScope()));
        }

        return new ScoreSet(entries);
    }

    private Layer Find(string name) =>
        _layers.FirstOrDefault(l => l.Name == name)
        ?? throw new KeyNotFoundException($"Unknown layer '{name}'. Layers: {string.Join(", ", _layers.Select(l => l.Name))}.");

    private void ComputeFlows()
    {
        // Forward: LogIn of layer 0 = 0 (one unit of flow per input channel); each layer passes its flow on.
        double[]? flow = null;
        foreach (var l in _layers)
        {
            l.LogIn = Fit(flow, l.Columns);
            flow = LogEdgeProduct(l, l.LogIn, backward: false);
        }

        LogTotalPathWeight = flow!.Aggregate(double.NegativeInfinity, SpecialFunctions.LogAddExp);

        // Backward: LogOut of the last layer = 0.
        flow = null;
        for (int li = _layers.Count - 1; li >= 0; li--)
        {
            var l = _layers[li];
            l.LogOut = Fit(flow, l.Rows);
            flow = LogEdgeProduct(l, l.LogOut, backward: true);
        }
    }

    /// <summary>The flow entering a layer: 0 (log of one unit) at the end of the chain, else the neighbour's flow, −∞ where channel counts differ.</summary>
    private static double[] Fit(double[]? flow, int length)
    {
        var fitted = new double[length];
        for (int i = 0; i < length; i++)
        {
            fitted[i] = flow is null ? 0.0 : (i < flow.Length ? flow[i] : double.NegativeInfinity);
        }

        return fitted;
    }

    /// <summary>
    /// log Σ edge · exp(logFlow) through one layer, in log space: forward over the inputs of every output channel
    /// (edge[j, i], summed over i), backward over the outputs of every input channel (summed over j); zero edges and −∞
    /// flows are skipped.
    /// </summary>
    private static double[] LogEdgeProduct(Layer l, double[] logFlow, bool backward)
    {
        int count = backward ? l.Columns : l.Rows;
        int terms = backward ? l.Rows : l.Columns;
        var result = new double[count];
        for (int a = 0; a < count; a++)
        {
            double acc = double.NegativeInfinity;
            for (int b = 0; b < terms; b++)
            {
                double e = backward ? l.Edge[(b * l.Columns) + a] : l.Edge[(a * l.Columns) + b];
                if (e > 0 && !double.IsNegativeInfinity(logFlow[b]))
                {
                    acc = SpecialFunctions.LogAddExp(acc, logFlow[b] + Math.Log(e));
                }
            }

            result[a] = acc;
        }

        return result;
    }

    private sealed class Layer(string name, long[] shape, long kernel, double[] edge, float[] weights, bool[] mask)
    {
        public string Name { get; } = name;

        public int Rows { get; } = (int)shape[0];

        public int Columns { get; } = (int)shape[1];

        public long Kernel { get; } = kernel;

        public double[] Edge { get; } = edge;

        public float[] Weights { get; } = weights;

        public bool[] Mask { get; } = mask;

        public long[] Shape { get; } = shape;

        public double[] LogIn { get; set; } = [];

        public double[] LogOut { get; set; } = [];

        public int Cell(int output, int input)
        {
            if ((uint)output >= (uint)Rows || (uint)input >= (uint)Columns)
            {
                throw new ArgumentOutOfRangeException(nameof(output), $"Channel pair ({output}, {input}) is outside [{Rows}×{Columns}] of '{Name}'.");
            }

            return (output * Columns) + input;
        }

        public double LogScore(int cell, double logZ)
        {
            double e = Edge[cell];
            if (e <= 0 || double.IsNegativeInfinity(logZ))
            {
                return double.NegativeInfinity;
            }

            return LogIn[cell % Columns] + Math.Log(e) + LogOut[cell / Columns] - logZ;
        }
    }
}
