using System.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Inference;

/// <summary>
/// A drop-in, inference-only replacement for <c>nn.Linear</c> that stores only the kept weights (CSR, float32)
/// and computes <c>y = x Wᵀ + b</c> with them on the CPU (managed SIMD kernels, docs/deployment.md
/// "Kernels"): one row-wise gather per example for small batches, a transposed outer-product kernel for larger
/// ones. Its output equals the masked dense layer's up to float rounding (summation order differs).
/// </summary>
/// <remarks>
/// Inputs must be float32 on the CPU with <see cref="InFeatures"/> as the last dimension (any leading
/// dimensions); the result carries no gradient. Not thread-safe in the same way TorchSharp modules are not.
/// </remarks>
public sealed class SparseLinear : nn.Module<Tensor, Tensor>
{
    /// <summary>Batches up to this size use the row-gather kernel; larger ones the transposed kernel (docs/deployment.md).</summary>
    public const int RowGatherMaxBatch = 2;

    private readonly CsrWeights _weights;

    internal SparseLinear(CsrWeights weights) : base(nameof(SparseLinear))
    {
        _weights = weights;
    }

    /// <summary>Number of input features.</summary>
    public long InFeatures => _weights.Cols;

    /// <summary>Number of output features.</summary>
    public long OutFeatures => _weights.Rows;

    /// <summary>Number of stored (kept) weights.</summary>
    public long KeptCount => _weights.Kept;

    /// <summary>Fraction of the weights kept.</summary>
    public double Density => InFeatures * OutFeatures == 0 ? 0 : (double)KeptCount / (InFeatures * OutFeatures);

    /// <summary>
    /// Builds the sparse layer from a dense weight [out, in], an optional bias [out] and an optional bool mask
    /// (true = keep; when null, the non-zero weights are kept). Tensors may live on any device; they are copied.
    /// </summary>
    /// <param name="weight">Float32 weight [out, in].</param>
    /// <param name="bias">Float32 bias [out], or null.</param>
    /// <param name="mask">Bool mask of the weight's shape, or null for "non-zero weights".</param>
    /// <exception cref="ArgumentException">Wrong rank, dtype or shape, or sizes beyond 32-bit indexing.</exception>
    public static SparseLinear FromDense(Tensor weight, Tensor? bias = null, Tensor? mask = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2 || weight.dtype != ScalarType.Float32)
        {
            throw new ArgumentException($"weight must be a 2-D float32 tensor [out, in]; it is [{string.Join(", ", weight.shape)}] {weight.dtype}.", nameof(weight));
        }

        long rows = weight.shape[0], cols = weight.shape[1];
        if (rows * cols >= int.MaxValue)
        {
            throw new ArgumentException($"weight [{rows}, {cols}] has more than {int.MaxValue} entries; the sparse kernels index with 32-bit integers.", nameof(weight));
        }

        if (bias is not null && (bias.dtype != ScalarType.Float32 || bias.dim() != 1 || bias.shape[0] != rows))
        {
            throw new ArgumentException($"bias must be float32 [{rows}]; it is [{string.Join(", ", bias.shape)}] {bias.dtype}.", nameof(bias));
        }

        if (mask is not null && (mask.dtype != ScalarType.Bool || !mask.shape.SequenceEqual(weight.shape)))
        {
            throw new ArgumentException($"mask must be bool [{rows}, {cols}]; it is [{string.Join(", ", mask.shape)}] {mask.dtype}.", nameof(mask));
        }

        return new SparseLinear(CsrWeights.FromTensors(weight, bias, mask));
    }

    /// <summary>Computes <c>x Wᵀ + b</c> with the kept weights.</summary>
    /// <param name="input">Float32 CPU tensor [..., in].</param>
    /// <returns>Float32 CPU tensor [..., out].</returns>
    /// <exception cref="ArgumentException">Not float32, not on the CPU, or the last dimension is not <see cref="InFeatures"/>.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.shape;
        if (!Accepts(input, shape))
        {
            throw new ArgumentException(
                $"SparseLinear expects a float32 CPU tensor [..., {InFeatures}]; got [{string.Join(", ", shape)}] {input.dtype} on {input.device}. " +
                "The managed kernel is CPU-only; keep layers on other devices dense (SparseDeployment.Convert does).",
                nameof(input));
        }

        return Run(input, shape);
    }

    /// <summary>Whether <paramref name="input"/> (of shape <paramref name="shape"/>) is a float32 CPU tensor [..., in].</summary>
    internal bool Accepts(Tensor input, long[] shape) =>
        shape.Length > 0 && shape[^1] == InFeatures && input.dtype == ScalarType.Float32 && input.device_type == DeviceType.CPU;

    /// <summary>The forward pass for an input that <see cref="Accepts"/>; <paramref name="shape"/> is its shape.</summary>
    internal Tensor Run(Tensor input, long[] shape)
    {
        long batch = 1;
        for (int i = 0; i < shape.Length - 1; i++)
        {
            batch *= shape[i];
        }

        var outShape = (long[])shape.Clone();
        outShape[^1] = OutFeatures;
        var output = empty(outShape, ScalarType.Float32);
        if (batch == 0 || OutFeatures == 0)
        {
            return output;
        }

        if (input.is_contiguous())
        {
            Compute(input, output, (int)batch);
        }
        else
        {
            using var x = input.contiguous();
            Compute(x, output, (int)batch);
        }

        return output;
    }

    private unsafe void Compute(Tensor x, Tensor output, int batch)
    {
        var outSpan = output.bytes;
        var inSpan = InFeatures == 0 ? Span<byte>.Empty : x.bytes;
        fixed (byte* xb = inSpan)
        fixed (byte* yb = outSpan)
        {
            float* xp = (float*)xb, yp = (float*)yb;
            if (batch <= RowGatherMaxBatch)
            {
                CsrKernels.RowGather(_weights, xp, yp, batch);
                return;
            }

            int stride = (batch + 7) / 8 * 8;
            int cols = _weights.Cols, rows = _weights.Rows;
            var xt = ArrayPool<float>.Shared.Rent(Math.Max(1, cols * stride));
            var yt = ArrayPool<float>.Shared.Rent(rows * stride);
            try
            {
                fixed (float* xtp = xt)
                fixed (float* ytp = yt)
                {
                    CsrKernels.Transpose(xp, batch, cols, cols, xtp, stride);
                    for (int c = 0; c < cols && batch < stride; c++)
                    {
                        new Span<float>(xtp + (long)c * stride + batch, stride - batch).Clear();
                    }

                    CsrKernels.TransposedBatch(_weights, xtp, ytp, stride);
                    CsrKernels.Transpose(ytp, rows, batch, stride, yp, rows);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(xt);
                ArrayPool<float>.Shared.Return(yt);
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"SparseLinear(in={InFeatures}, out={OutFeatures}, kept={KeptCount}, density={Density:P2})";
}
