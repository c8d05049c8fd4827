using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification;

/// <summary>Managed copies of masks and weights (signatures touch few positions; layers are small enough).</summary>
internal static class MaskArrays
{
    internal static bool[] Flat(Tensor mask)
    {
        using var cpu = mask.detach().to(ScalarType.Bool).cpu().flatten();
        return cpu.data<bool>().ToArray();
    }

    internal static float[] FlatFloat(Tensor t)
    {
        using var cpu = t.detach().to(ScalarType.Float32).cpu().flatten();
        return cpu.data<float>().ToArray();
    }

    internal static Tensor ToTensor(bool[] values, long[] shape, Device device)
    {
        using var scope = NewDisposeScope();
        var t = tensor(values, ScalarType.Bool).reshape(shape).to(device).clone();
        return t.MoveToOuterDisposeScope().DetachFromDisposeScope();
    }

    /// <summary>Kernel size (elements per channel pair): product of dims after the first two (1 for linear).</summary>
    internal static long KernelSize(long[] shape)
    {
        if (shape.Length < 2)
        {
            throw new ArgumentException(
                $"A channel graph needs a weight of rank ≥ 2 ([out, in, ...]); got shape [{string.Join(", ", shape)}].", nameof(shape));
        }

        long k = 1;
        for (int d = 2; d < shape.Length; d++)
        {
            k *= shape[d];
        }

        return k;
    }

    /// <summary>
    /// The prunable parameters of <paramref name="model"/> named by <paramref name="masks"/>, checked for name and
    /// shape (every Conv/Linear weight is eligible, first and last layers included).
    /// </summary>
    internal static Dictionary<string, PrunableParameter> Resolve(nn.Module model, MaskSet masks, IReadOnlyList<PrunableParameter>? parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(masks);
        parameters ??= new ParameterSelector(new ParameterSelectorOptions { KeepFirstLayerDense = false, KeepLastLayerDense = false, IncludeConv3d = true })
            .Select(model);
        var byName = parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var name in masks.Names)
        {
            if (!byName.TryGetValue(name, out var p))
            {
                problems.Add($"the model has no prunable weight '{name}'");
            }
            else if (!p.Weight.shape.SequenceEqual(masks[name].shape))
            {
                problems.Add($"mask '{name}' has shape [{string.Join(", ", masks[name].shape)}] but the weight has [{string.Join(", ", p.Weight.shape)}]");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"The mask does not fit the model: {string.Join("; ", problems)}.", nameof(masks));
        }

        return masks.Names.ToDictionary(n => n, n => byName[n], StringComparer.Ordinal);
    }
}
