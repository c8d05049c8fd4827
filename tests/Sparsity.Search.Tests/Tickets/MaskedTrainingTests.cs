using Sparsity.Search.Tickets;
using Sparsity.Training;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests.Tickets;

[Collection(SequentialCollection.Name)]
public sealed class MaskedTrainingTests
{
    [Theory]
    [InlineData(0.9, false, 0.0)]
    [InlineData(0.9, true, 0.0)]
    [InlineData(0.9, true, 0.05)]
    [InlineData(0.0, false, 0.1)]
    public void Pruned_weights_stay_exactly_zero_through_many_sgd_steps_of_the_library_trainer(double momentum, bool nesterov, double weightDecay)
    {
        var model = TicketFixtures.Mlp(3);
        using var train = TicketFixtures.Data(64, 1);
        using var test = TicketFixtures.Data(32, 2);
        var parameters = new ParameterSelector().Select(model);
        using var g = new Generator(7);
        using var mask = new MaskSet(parameters.Select(p =>
            KeyValuePair.Create(p.Name, rand(p.Shape, generator: g).gt(0.5).DetachFromDisposeScope())).ToList());
        var before = TicketFixtures.State(model);
        var options = RealTrainer.Recipe(25) with { LearningRate = 0.05, Momentum = momentum, Nesterov = nesterov, WeightDecay = weightDecay };
        var trainer = RealTrainer.Create(train, test, options);
        long steps = 0;

        LevelTrainingResult result;
        using (var masked = MaskedModel.Attach(model, mask, parameters))
        {
            result = trainer.Train(new LevelTrainingRequest
            {
                Model = model,
                Masks = masked,
                StepCount = 25 * trainer.StepsPerEpoch,
                AfterStep = _ => steps++,
            }, TestContext.Current.CancellationToken);

            foreach (var p in parameters)
            {
                using var pruned = p.Weight.detach().masked_select(mask[p.Name].logical_not());
                pruned.count_nonzero().item<long>().Should().Be(0, $"pruned weights of {p.Name} must be exactly 0.0");
                using var kept = p.Weight.detach().masked_select(mask[p.Name]);
                using var keptBefore = before[p.Name].masked_select(mask[p.Name]);
                TicketFixtures.Same(kept, keptBefore).Should().BeFalse("kept weights are trained");
            }
        }

        steps.Should().Be(100, "4 steps per epoch (64 examples, batch 16) for 25 epochs");
        result.Epochs.Should().HaveCount(25);
        result.Epochs.Select(e => e.Epoch).Should().Equal(Enumerable.Range(1, 25));
    }
}
