using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification.Tests;

internal static class TestMasks
{
    /// <summary>A bool mask of <paramref name="shape"/> keeping each position with probability <paramref name="density"/> (System.Random, no torch RNG).</summary>
    internal static Tensor Random(long[] shape, double density, int seed)
    {
        var random = new Random(seed);
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var values = new bool[n];
        for (long i = 0; i < n; i++)
        {
            values[i] = random.NextDouble() < density;
        }

        return tensor(values, ScalarType.Bool).reshape(shape);
    }

    internal static MaskSet Set(params (string Name, Tensor Mask)[] layers) =>
        new(layers.Select(l => KeyValuePair.Create(l.Name, l.Mask)).ToList());

    internal static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    internal static bool[] Flat(Tensor t)
    {
        using var c = t.cpu().flatten();
        return c.data<bool>().ToArray();
    }

    internal static float[] FlatFloat(Tensor t)
    {
        using var c = t.detach().cpu().flatten();
        return c.data<float>().ToArray();
    }

    /// <summary>log10 of an exact rational num/den (BigInteger), independent of the library's special functions.</summary>
    internal static double Log10(BigInteger num, BigInteger den) => BigInteger.Log10(num) - BigInteger.Log10(den);

    internal static BigInteger Choose(int n, int k)
    {
        BigInteger r = 1;
        for (int i = 1; i <= k; i++)
        {
            r = r * (n - k + i) / i;
        }

        return r;
    }

    /// <summary>A tiny network: conv 3→32 (3×3), conv 32→32 (3×3), linear 32→10; registered names conv1, conv2, fc.</summary>
    internal sealed class TinyNet : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Conv2d conv1;
        private readonly TorchSharp.Modules.Conv2d conv2;
        private readonly TorchSharp.Modules.Linear fc;

        public TinyNet()
            : base(nameof(TinyNet))
        {
            conv1 = nn.Conv2d(3, 32, 3, padding: 1);
            conv2 = nn.Conv2d(32, 32, 3, padding: 1);
            fc = nn.Linear(32, 10);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = nn.functional.relu(conv1.forward(x));
            h = nn.functional.relu(conv2.forward(h));
            h = h.mean([2, 3]);
            return fc.forward(h).MoveToOuterDisposeScope();
        }
    }

    /// <summary>TinyNet with a random ticket (density 0.2) over conv1, conv2, fc; weights zeroed where pruned.</summary>
    internal static (TinyNet Model, MaskSet Ticket) TinyTicket(int seed = 1)
    {
        torch.manual_seed(seed);
        var model = new TinyNet();
        var ticket = Set(
            ("conv1.weight", Random([32, 3, 3, 3], 0.3, seed)),
            ("conv2.weight", Random([32, 32, 3, 3], 0.2, seed + 1)),
            ("fc.weight", Random([10, 32], 0.5, seed + 2)));
        ticket.ApplyTo(model);
        return (model, ticket);
    }
}
