using static TorchSharp.torch;

namespace Sparsity.LotteryVerification.Tests;

public sealed class ChannelGraphTests
{
    [Fact]
    public void ConvConnectivityIsAnyKeptInKernel()
    {
        // [out 2, in 3, 2, 2]: kernel (0,1) has one weight, (1,2) all four, (1,0) one corner; the rest empty.
        var values = new bool[2 * 3 * 4];
        values[((0 * 3) + 1) * 4 + 3] = true;
        for (int u = 0; u < 4; u++)
        {
            values[((1 * 3) + 2) * 4 + u] = true;
        }

        values[((1 * 3) + 0) * 4 + 0] = true;
        using var mask = tensor(values, ScalarType.Bool).reshape(2, 3, 2, 2);
        var b = ChannelConnectivity.FromMask(mask);
        b.Rows.Should().Be(2);
        b.Columns.Should().Be(3);
        b.ToArray().Should().Equal(false, true, false, true, false, true);
        b[1, 2].Should().BeTrue();
        b[0, 0].Should().BeFalse();
        b.ConnectedPairs.Should().Be(3);
        b.Density.Should().Be(0.5);
    }

    [Fact]
    public void LinearConnectivityIsTheMaskItself()
    {
        using var mask = tensor(new[] { true, false, false, true, true, false }, ScalarType.Bool).reshape(2, 3);
        ChannelConnectivity.FromMask(mask).ToArray().Should().Equal(true, false, false, true, true, false);
    }

    [Fact]
    public void RankOneMaskIsRejected()
    {
        using var mask = ones(5, ScalarType.Bool);
        var act = () => ChannelConnectivity.FromMask(mask);
        act.Should().Throw<ArgumentException>().WithMessage("*rank ≥ 2*");
    }

    [Fact]
    public void OutOfRangeChannelIsRejected()
    {
        using var mask = ones(2, 3, ScalarType.Bool);
        var b = ChannelConnectivity.FromMask(mask);
        var act = () => b[2, 0];
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("output");
    }

    [Fact]
    public void WeightedGraphEdgeWeightsAndPathScoresMatchHandComputation()
    {
        // Layer a: 2 inputs → 2 hidden ([2, 2]); layer b: 2 hidden → 1 output ([1, 2]).
        using var wa = tensor(new float[] { 1f, -2f, 0.5f, 3f }).reshape(2, 2);
        using var ma = tensor(new[] { true, true, false, true }, ScalarType.Bool).reshape(2, 2);
        using var wb = tensor(new float[] { 4f, -1f }).reshape(1, 2);
        using var mb = tensor(new[] { true, true }, ScalarType.Bool).reshape(1, 2);
        var g = WeightedChannelGraph.Build([("a", wa, ma), ("b", wb, mb)]);

        g.EdgeWeight("a", 0, 1).Should().Be(2.0);
        g.EdgeWeight("a", 1, 0).Should().Be(0.0); // pruned
        // Paths i → j → 0: weights |wa[j,i]| · |wb[0,j]|: (0→0) 1·4, (1→0) 2·4, (1→1) 3·1; Z = 15.
        double z = 15.0;
        Math.Exp(g.LogTotalPathWeight).Should().BeApproximately(z, 1e-9);
        g.PathScore("a", 0, 0).Should().BeApproximately(4 / z, 1e-12);
        g.PathScore("a", 0, 1).Should().BeApproximately(8 / z, 1e-12);
        g.PathScore("a", 1, 1).Should().BeApproximately(3 / z, 1e-12);
        g.PathScore("a", 1, 0).Should().Be(0.0);
        g.PathScore("b", 0, 0).Should().BeApproximately(12 / z, 1e-12);
        g.PathScore("b", 0, 1).Should().BeApproximately(3 / z, 1e-12);
    }

    [Fact]
    public void WeightPathSharesSumToOnePerChainedLayerAndVanishWhenPruned()
    {
        using var w1 = randn(new long[] { 4, 3, 3, 3 }, generator: new Generator(3));
        using var m1 = TestMasks.Random([4, 3, 3, 3], 0.5, 1);
        using var w2 = randn(new long[] { 5, 4, 3, 3 }, generator: new Generator(4));
        using var m2 = TestMasks.Random([5, 4, 3, 3], 0.5, 2);
        var g = WeightedChannelGraph.Build([("l1", w1, m1), ("l2", w2, m2)]);
        using var scores = g.WeightScores();
        foreach (var (name, mask) in new[] { ("l1", m1), ("l2", m2) })
        {
            scores[name].shape.Should().Equal(mask.shape);
            scores[name].sum().item<double>().Should().BeApproximately(1.0, 1e-9);
            var s = scores[name].flatten().data<double>().ToArray();
            var m = TestMasks.Flat(mask);
            s.Where((_, i) => !m[i]).Should().OnlyContain(v => v == 0.0);
        }
    }

    [Fact]
    public void WeightedGraphRejectsShapeMismatch()
    {
        using var w = zeros(2, 2);
        using var m = ones(2, 3, ScalarType.Bool);
        var act = () => WeightedChannelGraph.Build([("x", w, m)]);
        act.Should().Throw<ArgumentException>().WithMessage("*'x'*differs*");
    }
}
