using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// The score SGD step of <see cref="SearchStep"/> fused into one pass over the tensors' memory for contiguous
/// float32 CPU tensors: d = g ⊙ w + wd·s; b = μ·b + d (b = d on the first step); s = s − lr·b. The same
/// arithmetic, in the same order and with the same fused multiply-adds, as the five libtorch operations it
/// replaces (<c>mul</c>, <c>add_</c> with alpha, <c>mul_</c>, <c>add_</c>, <c>add_</c> with alpha), without their
/// temporary tensor and per-operation dispatch.
/// </summary>
internal static class CpuScoreStep
{
    /// <summary>Whether the fused step applies: every tensor contiguous float32 on the CPU, of the scores' size.</summary>
    public static bool Applies(Tensor scores, Tensor gradient, Tensor weight, Tensor? buffer)
    {
        long n = scores.numel();
        return Qualifies(scores, n) && Qualifies(gradient, n) && Qualifies(weight, n) && (buffer is null || Qualifies(buffer, n));

        static bool Qualifies(Tensor t, long n) =>
            t.dtype == ScalarType.Float32 && t.device_type == TorchSharp.DeviceType.CPU && t.is_contiguous() && t.numel() == n && n <= int.MaxValue / 4;
    }

    /// <summary>One step; <paramref name="buffer"/> null means no momentum, <paramref name="firstStep"/> that the buffer takes d.</summary>
    public static void Step(Tensor scores, Tensor gradient, Tensor weight, Tensor? buffer, bool firstStep, float weightDecay, float momentum, float minusLearningRate)
    {
        var s = MemoryMarshal.Cast<byte, float>(scores.bytes);
        var g = MemoryMarshal.Cast<byte, float>(gradient.bytes);
        var w = MemoryMarshal.Cast<byte, float>(weight.bytes);
        var b = buffer is null ? Span<float>.Empty : MemoryMarshal.Cast<byte, float>(buffer.bytes);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var wd = Vector256.Create(weightDecay);
            var mu = Vector256.Create(momentum);
            var step = Vector256.Create(minusLearningRate);
            for (; i + 8 <= s.Length; i += 8)
            {
                var si = Vector256.Create<float>(s.Slice(i, 8));
                var d = Vector256.Create<float>(g.Slice(i, 8)) * Vector256.Create<float>(w.Slice(i, 8));
                d = weightDecay != 0 ? Vector256.FusedMultiplyAdd(si, wd, d) : d;
                if (buffer is not null)
                {
                    d = firstStep ? d : (Vector256.Create<float>(b.Slice(i, 8)) * mu) + d;
                    d.CopyTo(b.Slice(i, 8));
                }

                Vector256.FusedMultiplyAdd(d, step, si).CopyTo(s.Slice(i, 8));
            }
        }

        for (; i < s.Length; i++)
        {
            float d = g[i] * w[i];
            d = weightDecay != 0 ? MathF.FusedMultiplyAdd(s[i], weightDecay, d) : d;
            if (buffer is not null)
            {
                d = firstStep ? d : (b[i] * momentum) + d;
                b[i] = d;
            }

            s[i] = MathF.FusedMultiplyAdd(d, minusLearningRate, s[i]);
        }
    }
}
