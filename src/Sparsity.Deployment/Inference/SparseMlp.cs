using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Inference;

/// <summary>
/// A plain multilayer perceptron — the input flattened, then <c>Linear</c> layers with a ReLU (or nothing) between
/// them and nothing after the last, as LeNet-300-100 — compiled by <see cref="SparseDeployment.CompileMlp"/> into
/// one managed pass over the kept weights. Small batches (≤ <see cref="SparseLinear.RowGatherMaxBatch"/> examples)
/// run the whole chain in that pass, with the activation fused into each layer's kernel and no tensor between
/// layers; at batch 1 a converted model spends most of its time in the per-layer calls, not in the arithmetic
/// (docs/deployment.md, "CompileMlp: one pass for a Linear chain"). Larger batches, other dtypes or devices, and calls that want gradients run the
/// model itself, converted by <see cref="SparseDeployment.Convert"/> (<see cref="Converted"/>).
/// </summary>
/// <remarks>
/// Outputs equal the masked dense model's up to float rounding (summation order differs). Like any TorchSharp
/// module it must not run forward passes on several threads at once (the hidden activations live in buffers the
/// module owns). Disposing it disposes <see cref="Converted"/> (removes the hooks); the model stays the caller's.
/// </remarks>
public sealed class SparseMlp : nn.Module<Tensor, Tensor>
{
    private readonly CsrWeights[] _layers;
    private readonly bool[] _reluAfter;
    private readonly float[][] _hidden; // on the pinned object heap: their addresses never change

    internal SparseMlp(nn.Module<Tensor, Tensor> model, DeployedModel converted, IReadOnlyList<string> layerNames, CsrWeights[] layers, bool[] reluAfter)
        : base(nameof(SparseMlp))
    {
        Model = model;
        Converted = converted;
        LayerNames = layerNames;
        _layers = layers;
        _reluAfter = reluAfter;
        _hidden = layers.SkipLast(1).Select(l => GC.AllocateUninitializedArray<float>(l.Rows, pinned: true)).ToArray();
    }

    /// <summary>The compiled model (the caller's object), which serves the calls the fused pass does not take.</summary>
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>The model converted by <see cref="SparseDeployment.Convert"/>: per-layer sparse or dense routes for larger batches.</summary>
    public DeployedModel Converted { get; }

    /// <summary>The weights of the chain, in call order (state-dict keys).</summary>
    public IReadOnlyList<string> LayerNames { get; }

    /// <summary>Whether a ReLU follows each layer of the chain (never the last).</summary>
    public IReadOnlyList<bool> ReluAfter => _reluAfter;

    /// <summary>Features of one flattened input example.</summary>
    public long InFeatures => _layers[0].Cols;

    /// <summary>Outputs per example (the last layer's output features).</summary>
    public long OutFeatures => _layers[^1].Rows;

    /// <summary>Weights stored by the fused pass (kept weights of the layers it runs sparse, all weights of the others).</summary>
    public long StoredWeights => _layers.Sum(l => (long)l.Kept);

    /// <summary>Runs the chain: fused for float32 CPU batches of at most <see cref="SparseLinear.RowGatherMaxBatch"/> examples without gradients, the converted model otherwise.</summary>
    /// <param name="input">The model's input, [batch, ...] with <see cref="InFeatures"/> values per example.</param>
    /// <returns>[batch, <see cref="OutFeatures"/>].</returns>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // size(0) and numel() rather than shape: at batch 1 every allocation shows in the time.
        long batch = input.Dimensions < 2 ? 0 : input.size(0);
        if (batch is < 1 or > SparseLinear.RowGatherMaxBatch || input.numel() != batch * InFeatures || input.dtype != ScalarType.Float32 ||
            input.device_type != TorchSharp.DeviceType.CPU || (input.requires_grad && is_grad_enabled()))
        {
            return Model.call(input);
        }

        var output = empty(batch, OutFeatures, ScalarType.Float32);
        if (input.is_contiguous())
        {
            Run(input, output, (int)batch);
        }
        else
        {
            using var x = input.contiguous();
            Run(x, output, (int)batch);
        }

        return output;
    }

    private unsafe void Run(Tensor input, Tensor output, int batch)
    {
        fixed (byte* xb = input.bytes)
        fixed (byte* yb = output.bytes)
        {
            for (int n = 0; n < batch; n++)
            {
                float* src = (float*)xb + n * InFeatures;
                for (int i = 0; i < _layers.Length; i++)
                {
                    bool last = i == _layers.Length - 1;
                    float* dst = last ? (float*)yb + n * OutFeatures : (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_hidden[i]));
                    CsrKernels.RowGather(_layers[i], src, dst, 1, relu: !last && _reluAfter[i]);
                    src = dst;
                }
            }
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Converted.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"SparseMlp({string.Join(" → ", LayerNames.Select((n, i) => i < _reluAfter.Length - 1 && _reluAfter[i] ? n + " → relu" : n))}, stored={StoredWeights})";
}
