using Sparsity.Search.Tickets;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests.Tickets;

[Collection(SequentialCollection.Name)]
public sealed class NMIterativePruningTests
{
    [Theory]
    [InlineData(2, 4)]
    [InlineData(1, 4)]
    [InlineData(4, 8)]
    public void OneLevelPrunesToTheNMMagnitudeMaskThenNothingIsLeft(int n, int m)
    {
        var pattern = new NMPattern(n, m);
        var model = TicketFixtures.Mlp(4);
        var init = TicketFixtures.State(model);
        var trainer = new ScriptedTrainer(1, 1);
        var options = new IterativeMagnitudePruningOptions { Levels = 5, Allocation = new NMAllocation(pattern), ControlLevels = [1] };
        using var result = new IterativeMagnitudePruning(options).Run(model, trainer, cancellationToken: TestContext.Current.CancellationToken);

        result.StopReason.Should().Be(StopReason.NothingLeft);
        result.Levels.Should().HaveCount(2, "the dense run and one N:M level");
        result.Mask.Sparsity.Should().Be(pattern.Sparsity);

        // The scripted trainer leaves the weights alone, so the ticket is the N:M magnitude mask of the initial weights
        // (independent route: per group of M, the N largest |w|, ties by lower index).
        foreach (var name in new[] { "fc1.weight", "fc2.weight" })
        {
            using var w = init[name].abs().flatten();
            var values = w.data<float>().ToArray();
            var expected = new bool[values.Length];
            for (int g = 0; g < values.Length; g += m)
            {
                foreach (var i in Enumerable.Range(g, m).OrderByDescending(i => values[i]).ThenBy(i => i).Take(n))
                {
                    expected[i] = true;
                }
            }

            using var mask = result.Mask[name].flatten();
            mask.data<bool>().ToArray().Should().Equal(expected, name);
        }

        // dense, level 1 ticket, reinit control, random-mask control: the random control is N:M too, elsewhere.
        trainer.Masks.Should().HaveCount(4);
        var random = trainer.Masks[3]!;
        random.Equals(result.Mask).Should().BeFalse();
        foreach (var name in random.Names)
        {
            pattern.Violations(random[name]).Should().Be(0, name);
        }
    }
}
