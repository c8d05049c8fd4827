using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Inference;

/// <summary>
/// Turns a masked model into a sparse one for CPU inference: every masked <c>Linear</c> whose density is below the
/// cost model's break-even is served by a <see cref="SparseLinear"/>; the rest stays dense.
/// </summary>
/// <remarks>
/// TorchSharp's <c>Linear</c> is sealed and models keep their layers in typed fields, so the layer object cannot be
/// swapped from outside. Convert therefore leaves the module tree as it is and installs a forward pre-hook and a
/// forward hook on each converted <c>Linear</c>: when the call's input is a float32 CPU tensor, no gradient is
/// wanted, and the cost model says sparse pays at that batch size, the pre-hook computes the sparse result and
/// hands the dense layer an empty batch [0, in]; the forward hook then returns the sparse result. Otherwise the
/// dense layer runs as usual. Disposing the <see cref="DeployedModel"/> removes the hooks. Like any TorchSharp
/// module, a converted model must not run forward passes on several threads at once (the hooks hand the sparse result
/// from the pre-hook to the forward hook through a field).
/// Convert zeroes the pruned weights of the model in place (<see cref="MaskSet.ApplyTo"/>), so the dense fallback
/// computes the masked model too. Layers on another device than the CPU stay dense (the managed kernel is CPU-only;
/// nothing is moved); Conv layers stay dense: no sparse convolution is provided (the im2col probe in docs/deployment.md pays only on
/// ResNet-20's last stage at ≤ 10 % density; on the first stage the unfold alone costs more than the dense conv).
/// </remarks>
public static class SparseDeployment
{
    /// <summary>Converts <paramref name="model"/> in place (hooks) and returns the handle that undoes it.</summary>
    /// <param name="model">The model; its pruned weights are set to 0.</param>
    /// <param name="masks">Masks of some of its Conv/Linear weights (state-dict keys).</param>
    /// <param name="costModel">Break-even densities; <see cref="SparseCostModel.Default"/> when null.</param>
    /// <returns>The deployment: the model, the per-layer decisions, and <c>Dispose</c> to remove the hooks.</returns>
    /// <exception cref="ArgumentException">A mask names no Conv/Linear weight of the model, or has another shape.</exception>
    public static DeployedModel Convert(nn.Module model, MaskSet masks, SparseCostModel? costModel = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(masks);
        costModel ??= SparseCostModel.Default;
        var all = new ParameterSelector(new ParameterSelectorOptions { IncludeConv3d = true }).Select(model);
        var parameters = all.Where(p => masks.Contains(p.Name)).ToList();
        masks.ApplyTo(model, parameters);

        var decisions = new List<LayerDeployment>();
        var routes = new List<SparseRoute>();
        try
        {
            foreach (var p in parameters)
            {
                long kept = masks.KeptIn(p.Name), total = p.Count;
                double density = total == 0 ? 0 : (double)kept / total;
                var weight = p.Weight;
                string? denseReason = null;
                if (p.Layer is not Linear)
                {
                    denseReason = $"{p.Kind} stays dense (no sparse convolution; measured im2col route in docs/deployment.md)";
                }
                else if (weight.device_type != TorchSharp.DeviceType.CPU)
                {
                    denseReason = $"on {weight.device}: the managed sparse kernel is CPU-only and nothing is moved";
                }
                else if (weight.dtype != ScalarType.Float32)
                {
                    denseReason = $"dtype {weight.dtype}: the sparse kernel is float32";
                }
                else if (!costModel.SparsePays(density, 1))
                {
                    denseReason = $"density {density:P2} is above the break-even {costModel.RowGatherMaxDensity:P0} even at batch 1";
                }

                if (denseReason is not null)
                {
                    decisions.Add(new LayerDeployment(p.Name, p.Kind, kept, total, LayerRoute.Dense, denseReason));
                    continue;
                }

                var linear = (Linear)p.Layer;
                var sparse = SparseLinear.FromDense(weight, linear.bias, masks[p.Name]);
                routes.Add(new SparseRoute(linear, sparse, density, costModel));
                decisions.Add(new LayerDeployment(p.Name, p.Kind, kept, total, LayerRoute.Sparse,
                    $"density {density:P2}: sparse at batch ≤ {SparseLinear.RowGatherMaxBatch} (break-even {costModel.RowGatherMaxDensity:P0})" +
                    (costModel.SparsePays(density, SparseLinear.RowGatherMaxBatch + 1) ? $" and at larger batches (break-even {costModel.BatchedMaxDensity:P0})" : "; dense at larger batches")));
            }
        }
        catch
        {
            routes.ForEach(r => r.Dispose());
            throw;
        }

        return new DeployedModel(model, decisions, routes);
    }

    /// <summary>
    /// Compiles a plain multilayer perceptron (the input flattened, then Linear layers with ReLU or nothing between
    /// them, as LeNet-300-100) into a <see cref="SparseMlp"/>: one managed pass over the kept weights for batches of
    /// at most <see cref="SparseLinear.RowGatherMaxBatch"/> examples, and the model converted by
    /// <see cref="Convert"/> for the rest. The chain is discovered by running the model on two random probe
    /// batches with forward hooks on its Linear layers (every step checked exactly); a model that is not such a
    /// chain is refused with the layer named, never compiled wrongly.
    /// </summary>
    /// <param name="model">The model, in the mode it will serve in (eval, so that dropout is the identity); its pruned weights are set to 0.</param>
    /// <param name="masks">Masks of some of its Linear weights (state-dict keys). In the fused pass a masked layer is sparse where the cost model's batch-1 break-even says it pays; denser and unmasked layers are stored whole (their pruned weights are zero).</param>
    /// <param name="exampleShape">The shape of one input example without the batch dimension, e.g. [1, 28, 28].</param>
    /// <param name="costModel">Passed to <see cref="Convert"/> for the larger batches; <see cref="SparseCostModel.Default"/> when null.</param>
    /// <returns>The compiled model; disposing it removes the hooks <see cref="Convert"/> installed.</returns>
    /// <exception cref="ArgumentException">An empty or non-positive <paramref name="exampleShape"/>; a model that is not a float32 CPU Linear chain (the message names the layer); a mask <see cref="Convert"/> refuses.</exception>
    public static SparseMlp CompileMlp(nn.Module<Tensor, Tensor> model, MaskSet masks, long[] exampleShape, SparseCostModel? costModel = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(masks);
        ArgumentNullException.ThrowIfNull(exampleShape);
        if (exampleShape.Length == 0 || exampleShape.Any(d => d < 1))
        {
            throw new ArgumentException($"exampleShape must list the positive sizes of one example without the batch dimension (e.g. [1, 28, 28]); got [{string.Join(", ", exampleShape)}].", nameof(exampleShape));
        }

        var chain = MlpChainDiscovery.Discover(model, exampleShape);
        var off = chain.FirstOrDefault(l => l.Layer.weight!.dtype != ScalarType.Float32 || l.Layer.weight.device_type != TorchSharp.DeviceType.CPU);
        if (off is not null)
        {
            throw new ArgumentException($"{off.Name} is {off.Layer.weight!.dtype} on {off.Layer.weight.device}; the fused pass computes float32 on the CPU (use Convert).", nameof(model));
        }

        var converted = Convert(model, masks, costModel);
        try
        {
            // A layer stays sparse in the fused pass where the row-gather kernel pays (the cost model's batch-1
            // break-even); denser and unmasked layers are stored whole and read with contiguous loads.
            costModel ??= SparseCostModel.Default;
            var keys = chain.Select(l => l.Name.Length == 0 ? "weight" : l.Name + ".weight").ToList();
            var layers = chain.Select((l, i) =>
            {
                var weight = l.Layer.weight!;
                bool sparse = masks.Contains(keys[i]) && costModel.SparsePays((double)masks.KeptIn(keys[i]) / weight.numel(), 1);
                using var all = ones_like(weight, dtype: ScalarType.Bool);
                return CsrWeights.FromTensors(weight, l.Layer.bias, sparse ? masks[keys[i]] : all);
            }).ToArray();
            return new SparseMlp(model, converted, keys, layers, chain.Select(l => l.ReluAfter).ToArray());
        }
        catch
        {
            converted.Dispose();
            throw;
        }
    }
}
