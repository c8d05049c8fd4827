using Sparsity.Search.Tickets;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests.Tickets;

[Collection(SequentialCollection.Name)]
public sealed class ReinitializerTests
{
    [Fact]
    public void Default_reinitialiser_is_seeded_follows_pytorch_bounds_and_restores_the_global_rng()
    {
        var a = TicketFixtures.Mlp(1); // module construction draws from the global RNG: build first
        var b = TicketFixtures.Mlp(2);
        random.manual_seed(42);
        using var expectedNext = rand(5);
        random.manual_seed(42);

        IterativeMagnitudePruning.ResetParameters(a, 7);
        IterativeMagnitudePruning.ResetParameters(b, 7);
        using var next = rand(5);
        TicketFixtures.Same(next, expectedNext).Should().BeTrue("the global RNG is restored");
        TicketFixtures.SameState(TicketFixtures.State(a), TicketFixtures.State(b)).Should().BeTrue("same seed, same weights");

        var c = TicketFixtures.Mlp(1);
        IterativeMagnitudePruning.ResetParameters(c, 8);
        TicketFixtures.Same(c.state_dict()["fc1.weight"], a.state_dict()["fc1.weight"]).Should().BeFalse();

        // Kaiming-uniform with a = √5 gives bound 1/√fan_in for weights too; biases share it.
        foreach (var (name, fanIn) in new[] { ("fc1", 8), ("fc2", 16), ("fc3", 12) })
        {
            double bound = 1.0 / Math.Sqrt(fanIn);
            a.state_dict()[name + ".weight"].abs().max().item<float>().Should().BeLessThanOrEqualTo((float)bound);
            a.state_dict()[name + ".bias"].abs().max().item<float>().Should().BeLessThanOrEqualTo((float)bound);
            a.state_dict()[name + ".weight"].abs().max().item<float>().Should().BeGreaterThan((float)(0.5 * bound));
        }
    }
}
