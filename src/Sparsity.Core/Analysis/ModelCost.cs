using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Analysis;

/// <summary>
/// Counts a model's parameters, theoretical FLOPs per Conv/Linear layer (from one forward pass of a given input
/// shape, observed with forward hooks) and state bytes, optionally under a mask. The model needs no special
/// structure: any <see cref="nn.Module{T, TResult}"/> whose Conv1d/Conv2d/Conv3d/Linear submodules are registered
/// children is measured. See <see cref="LayerCost"/> for the counting convention.
/// </summary>
public static class ModelCost
{
    /// <summary>
    /// Runs one forward pass of zeros of <paramref name="inputShape"/> (in evaluation mode, without gradients, on the
    /// device and floating dtype of the model's parameters) and returns the model's costs. The model's training mode
    /// is restored afterwards; nothing else changes. Layers are observed through forward hooks, which TorchSharp runs
    /// when a parent invokes a child with <c>call</c>; layers invoked with <c>forward</c> are listed in
    /// <see cref="ModelCostReport.UnobservedLayers"/>.
    /// </summary>
    /// <param name="model">The model to measure.</param>
    /// <param name="inputShape">Input shape with the batch dimension, for example <c>[1, 1, 28, 28]</c>.</param>
    /// <param name="masks">
    /// Optional mask whose names are parameter names of <paramref name="model"/>; pruned entries are subtracted from
    /// the kept counts, and a masked Conv/Linear weight lowers the layer's kept MACs.
    /// </param>
    /// <exception cref="ArgumentException">
    /// The input shape is empty or has a non-positive dimension, or a mask names no parameter of the model or has
    /// another shape than the parameter.
    /// </exception>
    public static ModelCostReport Measure(nn.Module<Tensor, Tensor> model, IReadOnlyList<long> inputShape, MaskSet? masks = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Count == 0 || inputShape.Any(d => d <= 0))
            throw new ArgumentException(
                $"Input shape [{string.Join(", ", inputShape)}] must be non-empty with positive dimensions, batch first " +
                "(for example [1, 1, 28, 28]).", nameof(inputShape));

        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var kept = KeptPerParameter(parameters, masks);

        var layers = new List<(string Name, nn.Module Module, PrunableLayerKind Kind)>();
        foreach (var (name, module) in model.named_modules())
        {
            PrunableLayerKind? kind = module switch
            {
                Linear => PrunableLayerKind.Linear,
                Conv1d => PrunableLayerKind.Conv1d,
                Conv2d => PrunableLayerKind.Conv2d,
                Conv3d => PrunableLayerKind.Conv3d,
                _ => null,
            };
            if (kind is not null) layers.Add((name, module, kind.Value));
        }

        var observed = new Dictionary<string, (int Order, int Calls, long[] Shape, long OutputElements)>();
        var removers = new List<Action>();
        try
        {
            foreach (var (name, module, _) in layers)
            {
                var layerName = name;
                var hookable = (nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>,
                    Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>)module;
                var remover = hookable.register_forward_hook((_, _, output) =>
                {
                    var seen = observed.TryGetValue(layerName, out var before) ? before : (observed.Count, 0, [], 0L);
                    observed[layerName] = (seen.Order, seen.Calls + 1, output.shape, seen.OutputElements + output.numel());
                    return output;
                });
                removers.Add(remover.remove);
            }
            RunZeros(model, parameters.Values, inputShape);
        }
        finally
        {
            foreach (var remove in removers) remove();
        }

        var costs = new List<LayerCost>();
        foreach (var (name, module, kind) in layers.Where(l => observed.ContainsKey(l.Name)).OrderBy(l => observed[l.Name].Order))
        {
            var (_, calls, shape, outputElements) = observed[name];
            var weight = module.get_parameter("weight")
                ?? throw new ArgumentException($"Layer '{name}' has no weight.", nameof(model));
            var weightName = name.Length == 0 ? "weight" : name + ".weight";
            long outputChannels = weight.shape[0];
            long weightCount = weight.numel();
            long keptWeights = kept.TryGetValue(weightName, out var k) ? k : weightCount;
            long positions = outputElements / outputChannels;
            costs.Add(new LayerCost(name, kind, calls, shape, weightCount, keptWeights,
                positions * weightCount, positions * keptWeights));
        }

        long total = parameters.Values.Sum(p => p.numel());
        long pruned = kept.Sum(e => parameters[e.Key].numel() - e.Value);
        long bytes = model.state_dict().Values.Sum(t => t.numel() * t.ElementSize);
        var unobserved = layers.Where(l => !observed.ContainsKey(l.Name)).Select(l => l.Name).ToList();
        return new ModelCostReport(inputShape.ToArray(), costs, total, total - pruned, bytes, unobserved);
    }

    private static Dictionary<string, long> KeptPerParameter(Dictionary<string, Parameter> parameters, MaskSet? masks)
    {
        var kept = new Dictionary<string, long>();
        if (masks is null) return kept;
        foreach (var (name, mask) in masks.Entries)
        {
            if (!parameters.TryGetValue(name, out var parameter))
                throw new ArgumentException(
                    $"Mask '{name}' names no parameter of the model; pass masks made for this model.", nameof(masks));
            if (!mask.shape.SequenceEqual(parameter.shape))
                throw new ArgumentException(
                    $"Mask '{name}' has shape [{string.Join(", ", mask.shape)}] but the parameter has " +
                    $"[{string.Join(", ", parameter.shape)}]; pass masks made for this model.", nameof(masks));
            kept[name] = masks.KeptIn(name);
        }
        return kept;
    }

    private static void RunZeros(nn.Module<Tensor, Tensor> model, IEnumerable<Parameter> parameters, IReadOnlyList<long> inputShape)
    {
        var first = parameters.FirstOrDefault(p => p.is_floating_point());
        var device = first?.device ?? CPU;
        var dtype = first?.dtype ?? ScalarType.Float32;
        bool training = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var input = zeros(inputShape.ToArray(), dtype, device);
            model.forward(input);
        }
        finally
        {
            model.train(training);
        }
    }
}
