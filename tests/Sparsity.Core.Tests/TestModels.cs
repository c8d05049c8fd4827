using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests;

/// <summary>Small models with fixed, hand-known weights (no RNG involved after construction).</summary>
internal static class TestModels
{
    /// <summary>
    /// conv (Conv2d 1→2, 3×3, 18 weights) → flatten → fc1 (Linear 8→4, 32 weights) → fc2 (Linear 4→3, 12 weights),
    /// with weights set to distinct values so magnitudes are known.
    /// </summary>
    public static nn.Module<Tensor, Tensor> ConvNet()
    {
        var model = nn.Sequential(
            ("conv", nn.Conv2d(1, 2, 3)),
            ("relu", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(2)),
            ("flat", nn.Flatten()),
            ("fc1", nn.Linear(8, 4)),
            ("act", nn.ReLU()),
            ("fc2", nn.Linear(4, 3)));
        FillDistinct(model);
        return model;
    }

    /// <summary>Sets every parameter to distinct deterministic values: element i of tensor t is (−1)^i (i + 1 + 100 t) / 1000.</summary>
    public static void FillDistinct(nn.Module model)
    {
        using var noGrad = no_grad();
        int t = 0;
        foreach (var (_, p) in model.named_parameters())
        {
            var n = p.numel();
            using var values = arange(1, n + 1, ScalarType.Float32).add(100 * t).div(1000);
            using var signs = arange(n, ScalarType.Float32).remainder(2).mul(-2).add(1);
            using var filled = values.mul(signs).reshape(p.shape);
            p.copy_(filled);
            t++;
        }
    }

    /// <summary>A ScoreSet from explicit per-layer values.</summary>
    public static ScoreSet Scores(params (string Name, float[] Values, long[] Shape)[] layers) =>
        new(layers.Select(l => KeyValuePair.Create(l.Name, tensor(l.Values).reshape(l.Shape))).ToList());

    /// <summary>Whether two tensors have the same shape and values.</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape))
        {
            return false;
        }

        using var eq = a.eq(b).all();
        return eq.item<bool>();
    }

    /// <summary>Flat bool values of a mask.</summary>
    public static bool[] Bits(Tensor mask) => mask.flatten().data<bool>().ToArray();
}
