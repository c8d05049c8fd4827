using Sparsity.Search.Tickets;
using Sparsity.Training;

namespace Sparsity.Search.Tests.Tickets;

[Collection(SequentialCollection.Name)]
public sealed class TrainerLevelTrainerTests
{
    [Fact]
    public void Reports_the_schedule_of_its_recipe()
    {
        using var train = TicketFixtures.Data(50, 1);
        using var test = TicketFixtures.Data(10, 2);
        var trainer = RealTrainer.Create(train, test, RealTrainer.Recipe(4));
        trainer.Epochs.Should().Be(4);
        trainer.StepsPerEpoch.Should().Be(4, "50 examples in batches of 16, the last one smaller");
        trainer.CanStartMidEpoch.Should().BeFalse();
    }

    [Fact]
    public void Rejects_bad_recipes_and_segments_it_cannot_train_without_touching_the_model()
    {
        using var train = TicketFixtures.Data(48, 1);
        using var test = TicketFixtures.Data(10, 2);
        var bad = () => RealTrainer.Create(train, test, RealTrainer.Recipe(2) with { Momentum = 1.5 });
        bad.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "Momentum");

        var trainer = RealTrainer.Create(train, test, RealTrainer.Recipe(3));
        var model = TicketFixtures.Mlp();
        var before = TicketFixtures.State(model);
        var ct = TestContext.Current.CancellationToken;
        var midEpoch = () => trainer.Train(new LevelTrainingRequest { Model = model, StartStep = 1, StepCount = 2 }, ct);
        midEpoch.Should().Throw<ArgumentException>().WithMessage("*inside an epoch*");
        var notToTheEnd = () => trainer.Train(new LevelTrainingRequest { Model = model, StartStep = 3, StepCount = 3 }, ct);
        notToTheEnd.Should().Throw<ArgumentException>().WithMessage("*end of the 3-epoch schedule*");
        TicketFixtures.SameState(TicketFixtures.State(model), before).Should().BeTrue();
    }
}
