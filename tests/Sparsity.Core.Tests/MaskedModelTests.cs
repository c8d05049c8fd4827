using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests;

[Collection(SequentialCollection.Name)]
public sealed class MaskedModelTests
{
    private static (nn.Module<Tensor, Tensor> Model, IReadOnlyList<PrunableParameter> Parameters, MaskSet Masks) Setup(double sparsity)
    {
        var model = TestModels.ConvNet();
        var parameters = new ParameterSelector().Select(model);
        using var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
        return (model, parameters, new GlobalAllocation().Allocate(scores, sparsity));
    }

    private static float[] Values(Tensor t) => t.detach().flatten().data<float>().ToArray();

    [Fact]
    public void ForwardUsesMaskedWeightsAndDisposeRestoresDenseWeights()
    {
        var (model, parameters, masks) = Setup(0.5);
        using (model)
        using (masks)
        {
            var dense = parameters.Select(p => Values(p.Weight)).ToList();
            using var input = ones(2, 1, 5, 5);
            using (var masked = MaskedModel.Attach(model, masks, parameters))
            {
                for (int i = 0; i < parameters.Count; i++)
                {
                    var bits = TestModels.Bits(masks[parameters[i].Name]);
                    Values(parameters[i].Weight).Should().Equal(dense[i].Select((w, j) => bits[j] ? w : 0f));
                }

                using var maskedOut = model.call(input);
                using var reference = TestModels.ConvNet();
                masks.ApplyTo(reference);
                using var referenceOut = reference.call(input);
                TestModels.Same(maskedOut, referenceOut).Should().BeTrue();
            }

            for (int i = 0; i < parameters.Count; i++)
            {
                Values(parameters[i].Weight).Should().Equal(dense[i]);
            }
        }
    }

    [Fact]
    public void SetMaskKeepsTrainedValuesOfKeptPositions()
    {
        var (model, parameters, masks) = Setup(0.5);
        using (model)
        using (masks)
        using (var masked = MaskedModel.Attach(model, masks, parameters))
        {
            var fc2 = parameters.Single(p => p.Name == "fc2.weight");
            var original = Values(fc2.Weight.detach().clone());
            var dense0 = Values(masked.DenseWeight("fc2.weight"));
            var oldBits = TestModels.Bits(masked.Mask("fc2.weight"));
            using (no_grad())
            {
                fc2.Weight.add_(1f); // a "training" update (also touches pruned positions, as weight decay could)
            }

            var newBits = oldBits.Select(b => !b).ToArray();
            newBits[0] = true;
            masked.SetMask("fc2.weight", tensor(newBits).reshape(3, 4));

            // Dense copy: old kept positions took the trained value, old pruned positions kept their dense value.
            var expectedDense = dense0.Select((d, j) => oldBits[j] ? original[j] + 1f : d).ToArray();
            Values(masked.DenseWeight("fc2.weight")).Should().Equal(expectedDense);
            Values(fc2.Weight).Should().Equal(expectedDense.Select((d, j) => newBits[j] ? d : 0f));
        }
    }

    [Fact]
    public void PrunedWeightsStayExactlyZeroThroughSgdWithMomentumNesterovAndWeightDecay()
    {
        var (model, parameters, masks) = Setup(0.8);
        using (model)
        using (masks)
        using (var masked = MaskedModel.Attach(model, masks, parameters))
        {
            random.manual_seed(7);
            using var optimizer = optim.SGD(model.parameters(), 0.1, momentum: 0.9, weight_decay: 5e-4, nesterov: true);
            for (int step = 0; step < 50; step++)
            {
                using var scope = NewDisposeScope();
                var x = randn(4, 1, 5, 5);
                var y = randint(0, 3, [4]);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(x), y);
                loss.backward();
                masked.MaskGradients();
                optimizer.step();
                masked.Reapply();
            }

            foreach (var p in parameters)
            {
                var bits = TestModels.Bits(masks[p.Name]);
                var w = Values(p.Weight);
                w.Where((_, j) => !bits[j]).Should().OnlyContain(v => v == 0f);
                w.Where((_, j) => bits[j]).Should().Contain(v => v != 0f);
            }
        }
    }

    [Fact]
    public void GradientOfLiveParameterIsGradientOfEffectiveWeight()
    {
        var (model, parameters, masks) = Setup(0.5);
        using (model)
        using (masks)
        using (var masked = MaskedModel.Attach(model, masks, parameters))
        {
            using var input = full(new long[] { 1, 1, 5, 5 }, 0.3f);
            using var target = tensor(new long[] { 2 });
            nn.functional.cross_entropy(model.call(input), target).backward();
            var fc2Grad = Values(parameters[2].Weight.grad!);

            // Independent route: the same network written functionally with W_eff = W ⊙ M as a fresh leaf.
            using var reference = TestModels.ConvNet();
            var refParams = new ParameterSelector().Select(reference);
            using var wEff = (refParams[2].Weight.detach() * masks["fc2.weight"]).requires_grad_(true);
            var seq = (TorchSharp.Modules.Sequential)reference;
            using (no_grad())
            {
                refParams[0].Weight.mul_(masks["conv.weight"]);
                refParams[1].Weight.mul_(masks["fc1.weight"]);
            }

            Tensor h = input;
            foreach (var (_, module) in seq.named_children().Take(6))
            {
                h = ((nn.Module<Tensor, Tensor>)module).call(h);
            }

            var bias = reference.get_parameter("fc2.bias")!;
            var logits = nn.functional.linear(h, wEff, bias);
            nn.functional.cross_entropy(logits, target).backward();
            fc2Grad.Should().BeEquivalentTo(Values(wEff.grad!), o => o.WithStrictOrdering()
                .Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
        }
    }

    [Fact]
    public void BadMasksAreRejectedBeforeAnyWeightChanges()
    {
        var (model, parameters, masks) = Setup(0.5);
        using (model)
        using (masks)
        {
            var before = parameters.Select(p => Values(p.Weight)).ToList();
            using var wrongShape = new MaskSet([KeyValuePair.Create("fc1.weight", ones(new long[] { 8, 4 }, ScalarType.Bool))]);
            var act = () => MaskedModel.Attach(model, wrongShape, parameters);
            act.Should().Throw<ArgumentException>().WithParameterName("masks").WithMessage("*'fc1.weight'*[8, 4]*[4, 8]*");
            using var unknown = new MaskSet([KeyValuePair.Create("head.weight", ones(new long[] { 1 }, ScalarType.Bool))]);
            var act2 = () => MaskedModel.Attach(model, unknown, parameters);
            act2.Should().Throw<ArgumentException>().WithMessage("*head.weight*");
            parameters.Select(p => Values(p.Weight)).Should().BeEquivalentTo(before, o => o.WithStrictOrdering());

            using var masked = MaskedModel.Attach(model, masks, parameters);
            var act3 = () => masked.SetMask("fc1.weight", ones(new long[] { 4, 8 }));
            act3.Should().Throw<ArgumentException>().WithParameterName("mask").WithMessage("*must be bool*");
            var act4 = () => masked.SetMask("nope", ones(new long[] { 4, 8 }, ScalarType.Bool));
            act4.Should().Throw<KeyNotFoundException>().WithMessage("*'nope'*");
        }
    }
}
