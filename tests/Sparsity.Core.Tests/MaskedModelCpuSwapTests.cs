using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests;

/// <summary>
/// The searcher's CPU swap against the tensor path it replaces (<see cref="MaskedModel.SetMaskAt"/>, drop then
/// revive): the same live weights, held dense weights and masks, bit for bit, after trained values moved on; bad
/// positions refused before anything changes; tensors that do not qualify left to the tensor path.
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class MaskedModelCpuSwapTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void TheSwapEqualsSetMaskAtDropThenRevive(ScalarType dtype)
    {
        using var fast = Model(dtype);
        using var slow = Model(dtype);
        var (fastParameters, slowParameters) = (new ParameterSelector().Select(fast), new ParameterSelector().Select(slow));
        using var masks = Masks(fastParameters);
        using var fastMasked = MaskedModel.Attach(fast, masks, fastParameters);
        using var slowMasked = MaskedModel.Attach(slow, masks, slowParameters);
        var rng = new Random(3);
        for (int step = 0; step < 5; step++)
        {
            using (no_grad())
            {
                // Training moves the live weights on (kept positions only carry over into the held dense copy when swapped).
                foreach (var p in fastParameters.Concat(slowParameters))
                {
                    p.Weight.add_(0.125);
                }
            }

            foreach (var p in fastParameters)
            {
                var bits = TestModels.Bits(fastMasked.Mask(p.Name));
                var kept = Enumerable.Range(0, bits.Length).Where(i => bits[i]).OrderBy(_ => rng.Next()).ToArray();
                var pruned = Enumerable.Range(0, bits.Length).Where(i => !bits[i]).OrderBy(_ => rng.Next()).ToArray();
                int pairs = Math.Min(3, Math.Min(kept.Length, pruned.Length));
                using var drop = tensor(kept.Take(pairs).Select(i => (long)i).ToArray());
                using var revive = tensor(pruned.Take(pairs).Select(i => (long)i).ToArray());
                fastMasked.TrySwapOnCpu(p.Name, drop, revive).Should().BeTrue();
                slowMasked.SetMaskAt(p.Name, drop, keep: false);
                slowMasked.SetMaskAt(p.Name, revive, keep: true);
            }

            foreach (var (f, s) in fastParameters.Zip(slowParameters))
            {
                TestModels.Same(f.Weight, s.Weight).Should().BeTrue($"live weight of {f.Name}, step {step}");
                TestModels.Same(fastMasked.DenseWeight(f.Name), slowMasked.DenseWeight(s.Name)).Should().BeTrue($"dense weight of {f.Name}, step {step}");
                TestModels.Bits(fastMasked.Mask(f.Name)).Should().Equal(TestModels.Bits(slowMasked.Mask(s.Name)));
            }
        }
    }

    [Fact]
    public void APositionOutsideTheWeightIsRefusedBeforeAnythingChanges()
    {
        using var model = Model(ScalarType.Float32);
        var parameters = new ParameterSelector().Select(model);
        using var masks = Masks(parameters);
        using var masked = MaskedModel.Attach(model, masks, parameters);
        var before = TestModels.Bits(masked.Mask("fc1.weight"));
        var weight = parameters.Single(p => p.Name == "fc1.weight").Weight.detach().clone();
        int kept = Array.IndexOf(before, true), pruned = Array.IndexOf(before, false);
        using var drop = tensor(new long[] { kept });
        using var revive = tensor(new long[] { pruned, before.Length });
        var act = () => masked.TrySwapOnCpu("fc1.weight", drop, revive);
        act.Should().Throw<ArgumentException>().WithParameterName("revive").WithMessage($"*'fc1.weight'*[0, {before.Length})*");
        TestModels.Bits(masked.Mask("fc1.weight")).Should().Equal(before);
        TestModels.Same(parameters.Single(p => p.Name == "fc1.weight").Weight, weight).Should().BeTrue();
    }

    [Fact]
    public void PositionsThatAreNotACpuInt64VectorAreLeftToTheTensorPath()
    {
        using var model = Model(ScalarType.Float32);
        var parameters = new ParameterSelector().Select(model);
        using var masks = Masks(parameters);
        using var masked = MaskedModel.Attach(model, masks, parameters);
        var before = TestModels.Bits(masked.Mask("fc1.weight"));
        using var int32 = tensor(new int[] { 0 });
        using var matrix = zeros(new long[] { 1, 1 }, ScalarType.Int64);
        using var none = zeros(0, ScalarType.Int64);
        masked.TrySwapOnCpu("fc1.weight", int32, none).Should().BeFalse();
        masked.TrySwapOnCpu("fc1.weight", none, matrix).Should().BeFalse();
        TestModels.Bits(masked.Mask("fc1.weight")).Should().Equal(before);
    }

    private static nn.Module<Tensor, Tensor> Model(ScalarType dtype)
    {
        var model = TestModels.ConvNet();
        TestModels.FillDistinct(model);
        return dtype == ScalarType.Float32 ? model : model.to(dtype);
    }

    private static MaskSet Masks(IReadOnlyList<PrunableParameter> parameters)
    {
        using var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().to(ScalarType.Float32).clone())).ToList());
        return new GlobalAllocation().Allocate(scores, 0.5);
    }
}
