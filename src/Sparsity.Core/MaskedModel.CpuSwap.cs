using System.Numerics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Sparsity;

public sealed partial class MaskedModel
{
    /// <summary>
    /// The mask searcher's swap of one step, done in C# over the tensors' memory when the weight, held dense weight
    /// and mask are contiguous CPU tensors (float32 or float64) and the positions are CPU int64: the same result as
    /// <see cref="SetMaskAt"/> with <paramref name="drop"/> (keep false) then <paramref name="revive"/> (keep true),
    /// without its dozen small tensor operations and host reads per call. Returns false, changing nothing, when the
    /// tensors do not qualify. Writes memory directly, so autograd's version counters do not move: call it only
    /// between a backward pass and the next forward (as the searcher does).
    /// </summary>
    /// <exception cref="ArgumentException">A position lies outside the weight (nothing is changed).</exception>
    internal bool TrySwapOnCpu(string name, Tensor drop, Tensor revive)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var weight = Parameter(name).Weight;
        var dense = _dense[name];
        var mask = _masks[name];
        if (!OnCpu(weight) || !OnCpu(dense) || !OnCpu(mask) || weight.dtype != dense.dtype || !IsCpuIndex(drop) || !IsCpuIndex(revive))
        {
            return false;
        }

        long n = weight.numel();
        if (n * weight.element_size() > int.MaxValue)
        {
            return false;
        }

        var dropAt = Positions(drop, nameof(drop));
        var reviveAt = Positions(revive, nameof(revive));
        if (weight.dtype == ScalarType.Float32)
        {
            Swap<float>(weight, dense, mask, dropAt, reviveAt);
        }
        else if (weight.dtype == ScalarType.Float64)
        {
            Swap<double>(weight, dense, mask, dropAt, reviveAt);
        }
        else
        {
            return false;
        }

        return true;

        ReadOnlySpan<long> Positions(Tensor positions, string argument)
        {
            var at = MemoryMarshal.Cast<byte, long>(positions.bytes);
            foreach (var i in at)
            {
                if ((ulong)i >= (ulong)n)
                {
                    throw new ArgumentException($"Positions for '{name}' must lie in [0, {n}); got {i}.", argument);
                }
            }

            return at;
        }

        static bool OnCpu(Tensor t) => t.device_type == TorchSharp.DeviceType.CPU && t.is_contiguous();
        static bool IsCpuIndex(Tensor t) => OnCpu(t) && t.dtype == ScalarType.Int64 && t.dim() == 1;
    }

    /// <summary>Per position: the held dense value takes the live one where the position was kept (as in <see cref="SetMaskAt"/>), then the live weight becomes it (revive) or 0 (drop).</summary>
    private static void Swap<T>(Tensor weight, Tensor dense, Tensor mask, ReadOnlySpan<long> drop, ReadOnlySpan<long> revive)
        where T : unmanaged, INumber<T>
    {
        var w = MemoryMarshal.Cast<byte, T>(weight.bytes);
        var d = MemoryMarshal.Cast<byte, T>(dense.bytes);
        var m = mask.bytes;
        foreach (var i in drop)
        {
            if (m[(int)i] != 0)
            {
                d[(int)i] = w[(int)i];
            }

            w[(int)i] = T.Zero;
            m[(int)i] = 0;
        }

        foreach (var i in revive)
        {
            if (m[(int)i] != 0)
            {
                d[(int)i] = w[(int)i];
            }

            w[(int)i] = d[(int)i];
            m[(int)i] = 1;
        }
    }
}
