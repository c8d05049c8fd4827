using static TorchSharp.torch;

namespace Sparsity.Tests.Allocation;

/// <summary>
/// The CPU top-k (no concatenation, masks written in place) against the concatenating <c>kthvalue</c> path it
/// replaced: bit-identical masks on random scores with many ties, several layers, float32 and float64,
/// every rounding rule, with and without the one-weight-per-layer guard.
/// </summary>
public sealed class CpuTopKSelectionTests
{
    public static TheoryData<string, ScalarType, int> Cases()
    {
        var data = new TheoryData<string, ScalarType, int>();
        foreach (var kind in new[] { "ties", "fewTies", "continuous", "periodic", "sorted", "infinities" })     // infinities: −∞ and the largest finite value (ScoreSet rejects +∞)
        {
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            {
                data.Add(kind, dtype, 10_000);      // below the sampling threshold: every score in the band
                data.Add(kind, dtype, 40_000);      // bracketed by the smallest sample (4,096 scores)
                data.Add(kind, dtype, 300_000);     // bracketed by a sample of n / 64
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GlobalAllocationEqualsTheConcatenatingKthValuePath(string kind, ScalarType dtype, int total)
    {
        var rng = new Random(HashCode.Combine(kind, dtype, total) & 0x7fffffff);
        var sizes = Split(rng, total, rng.Next(2, 9));
        using var scores = MakeScores(kind, dtype, sizes, rng);
        foreach (var rounding in Enum.GetValues<KeptCountRounding>())
        {
            foreach (var sparsity in new[] { 0.0, 0.5, 0.9, 0.99999 })
            {
                foreach (var allowEmpty in new[] { false, true })
                {
                    var allocation = new GlobalAllocation(allowEmpty, rounding);
                    long k = SparsityBudget.KeptCount(total, sparsity, rounding);
                    if (!allowEmpty && k < scores.LayerCount)
                    {
                        continue;
                    }

                    using var expected = allocation.AllocateByConcatenation(scores, k, useCpuKernel: false);
                    using var actual = allocation.Allocate(scores, sparsity);
                    actual.KeptCount.Should().Be(k);
                    foreach (var name in scores.Names)
                    {
                        actual[name].shape.Should().Equal(scores[name].shape);
                        // Compared through the tensors' memory: no Scalar round trip (item<T>) in the loop.
                        TestModels.Bits(actual[name]).SequenceEqual(TestModels.Bits(expected[name])).Should().BeTrue(
                            $"{kind} {dtype} n={total} {rounding} p={sparsity} allowEmpty={allowEmpty} layer {name}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData("ties", ScalarType.Float32, 300_001)]
    [InlineData("ties", ScalarType.Float64, 5_000)]
    [InlineData("continuous", ScalarType.Float32, 300_003)]
    [InlineData("periodic", ScalarType.Float32, 600_000)]
    public void KeepTopKEqualsTheKthValuePathAtEveryRank(string kind, ScalarType dtype, int n)
    {
        var rng = new Random(n);
        using var scores = MakeScores(kind, dtype, [n], rng);
        var layer = scores[scores.Names[0]];
        foreach (var k in new long[] { 0, 1, 2, n / 10, n / 2, n - 1, n, rng.Next(0, n + 1) })
        {
            using var expected = TopKSelection.KeepTopK(layer, k, useCpuKernel: false);
            using var actual = TopKSelection.KeepTopK(layer, k);
            var bits = TestModels.Bits(actual);
            bits.Count(b => b).Should().Be((int)k);
            bits.SequenceEqual(TestModels.Bits(expected)).Should().BeTrue($"{kind} {dtype} n={n} k={k}");
        }
    }

    [Fact]
    public void NonContiguousOrMixedDtypeScoresTakeTheConcatenatingPath()
    {
        using var a = rand(30, 40).t();
        using var b = rand(20).to(ScalarType.Float64);
        CpuTopKSelection.Supports([a]).Should().BeFalse();
        CpuTopKSelection.Supports([a.contiguous(), b]).Should().BeFalse();
        CpuTopKSelection.Supports([b]).Should().BeTrue();
        CpuTopKSelection.Supports([rand(5).to(ScalarType.Float16)]).Should().BeFalse();
    }

    private static long[] Split(Random rng, int total, int layers)
    {
        var cuts = Enumerable.Range(0, layers - 1).Select(_ => rng.Next(1, total)).Distinct().Order().ToList();
        var sizes = new List<long>();
        int previous = 0;
        foreach (var c in cuts.Append(total))
        {
            sizes.Add(c - previous);
            previous = c;
        }

        return [.. sizes];
    }

    private static ScoreSet MakeScores(string kind, ScalarType dtype, long[] sizes, Random rng)
    {
        long total = sizes.Sum();
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)rng.Next());
        var flat = kind switch
        {
            "ties" => randint(0, 7, total, generator: generator).to(dtype),                    // seven values: ties everywhere
            "fewTies" => randint(0, 20_000, total, generator: generator).to(dtype).div(3.0),
            "continuous" => randn(total, generator: generator, dtype: dtype),
            "periodic" => arange(total, dtype: dtype).remainder(65536.0),                      // the strided sample is blind
            "sorted" => arange(total, dtype: dtype).neg(),
            _ => where(rand(total, generator: generator).lt(0.3), full(total, double.NegativeInfinity, dtype: dtype),
                where(rand(total, generator: generator).lt(0.1), full(total, dtype == ScalarType.Float32 ? float.MaxValue : double.MaxValue, dtype: dtype),
                    randint(-3, 3, total, generator: generator).to(dtype))),
        };

        var parts = flat.split(sizes, 0);
        return new ScoreSet(parts.Select((p, i) =>
        {
            var t = i % 2 == 0 && p.numel() % 4 == 0 ? p.reshape(4, -1) : p;
            return KeyValuePair.Create($"layer{i}.weight", t.clone().DetachFromDisposeScope());
        }).ToList());
    }
}
