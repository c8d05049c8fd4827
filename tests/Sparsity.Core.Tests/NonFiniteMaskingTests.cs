using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests;

/// <summary>
/// Pruned positions are exactly 0.0 whatever the weight held there (issue: NaN·0 = NaN and ∞·0 = NaN made a
/// single NaN in a pruned weight turn every logit into NaN).
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class NonFiniteMaskingTests
{
    private static (nn.Module<Tensor, Tensor> Model, IReadOnlyList<PrunableParameter> Parameters, MaskSet Masks) Setup(float poison)
    {
        manual_seed(3);
        var model = nn.Sequential(("fc1", nn.Linear(4, 3)), ("relu", nn.ReLU()), ("fc2", nn.Linear(3, 2)));
        var parameters = new ParameterSelector().Select(model);
        var masks = MaskSet.Dense(parameters);
        using (no_grad())
        {
            // fc1.weight[0, 1] is pruned and holds a non-finite value.
            masks["fc1.weight"][0, 1] = false;
            parameters[0].Weight[0, 1] = poison;
        }

        return (model, parameters, new MaskSet(masks.Entries.Select(e => KeyValuePair.Create(e.Key, e.Value.clone().DetachFromDisposeScope())).ToList()));
    }

    private static float At(Tensor t, long i, long j) => t[i, j].item<float>();

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void AttachZeroesANonFinitePrunedWeightAndTheForwardStaysFinite(float poison)
    {
        var (model, parameters, masks) = Setup(poison);
        using var _ = model;
        using var __ = masks;
        using (var masked = MaskedModel.Attach(model, masks, parameters))
        {
            At(parameters[0].Weight, 0, 1).Should().Be(0f);
            BitConverter.SingleToInt32Bits(At(parameters[0].Weight, 0, 1)).Should().Be(0, "exactly +0.0");
            using var x = ones(5, 4);
            using var y = model.call(x);
            y.isfinite().all().item<bool>().Should().BeTrue();

            // The gradient of a kept weight is that of the same model with the pruned weight set to 0 by hand.
            y.sum().backward();
            using var reference = nn.Sequential(("fc1", nn.Linear(4, 3)), ("relu", nn.ReLU()), ("fc2", nn.Linear(3, 2)));
            using (no_grad())
            {
                foreach (var (name, p) in reference.named_parameters())
                {
                    p.copy_(model.get_parameter(name)!);
                }
            }

            reference.call(x).sum().backward();
            var got = parameters[0].Weight.grad!;
            var want = reference.get_parameter("fc1.weight")!.grad!;
            TestModels.Same(got, want).Should().BeTrue();
        }

        // Dispose restores the dense value, poison included (the held weight is the caller's).
        float restored = At(parameters[0].Weight, 0, 1);
        (float.IsNaN(poison) ? float.IsNaN(restored) : restored == poison).Should().BeTrue();
    }

    [Fact]
    public void ReapplyMaskGradientsAndSetMaskZeroNonFinitePrunedValues()
    {
        var (model, parameters, masks) = Setup(1f);
        using (model)
        using (masks)
        using (var masked = MaskedModel.Attach(model, masks, parameters))
        {
            var w = parameters[0].Weight;
            using (no_grad())
            {
                w[0, 1] = float.NaN; // an optimiser step with NaN momentum
            }

            masked.Reapply();
            At(w, 0, 1).Should().Be(0f);

            w.grad = full(3, 4, float.PositiveInfinity);
            masked.MaskGradients();
            At(w.grad, 0, 1).Should().Be(0f);
            float.IsPositiveInfinity(At(w.grad, 0, 0)).Should().BeTrue("kept gradients are left as they are");

            // The held dense weight holds NaN at (0, 2); pruning it must give 0.0, keeping it again gives NaN back.
            using (no_grad())
            {
                w[0, 2] = float.NaN;
            }

            using var prune = masks["fc1.weight"].clone();
            prune[0, 2] = false;
            masked.SetMask("fc1.weight", prune);
            At(w, 0, 2).Should().Be(0f);
            using var positions = tensor(new long[] { 2 });
            masked.SetMaskAt("fc1.weight", positions, keep: false);
            At(w, 0, 2).Should().Be(0f);
        }
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void ApplyToZeroesANonFinitePrunedWeight(float poison)
    {
        var (model, parameters, masks) = Setup(poison);
        using (model)
        using (masks)
        {
            masks.ApplyTo(model, parameters);
            At(parameters[0].Weight, 0, 1).Should().Be(0f);
            using var y = model.call(ones(2, 4));
            y.isfinite().all().item<bool>().Should().BeTrue();
        }
    }
}
