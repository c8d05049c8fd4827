using Sparsity.Data;
using Sparsity.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

[Collection(SequentialCollection.Name)]
public sealed class NMAllocationCriteriaTests
{
    private static IPruningCriterion Create(string name) => name switch
    {
        "magnitude" => new MagnitudeCriterion(),
        "snip" => new SnipCriterion(),
        "grasp" => new GraspCriterion(),
        "synflow" => new SynFlowCriterion(new SynFlowOptions { Schedule = new() { Rounds = 3 }, InputShape = [1, 28, 28] }),
        _ => new RandomCriterion(7),
    };

    [Theory]
    [InlineData("magnitude")]
    [InlineData("snip")]
    [InlineData("grasp")]
    [InlineData("synflow")]
    [InlineData("random")]
    public void EveryCriterionsScoresCutToNMKeepTheTopNOfEveryGroup(string criterion)
    {
        torch.manual_seed(5);
        using var model = new LeNet5();
        using var batch = new Batch(randn(8, 1, 28, 28), randint(0, 10, [8]));
        var pattern = NMPattern.TwoFour;
        var init = new CriterionMaskInitializer(Create(criterion), new NMAllocation(pattern, keepIncompatibleLayersDense: true), pattern.Sparsity);
        using var result = init.Initialize(model, TestModels.Select(model), [batch], Test.Ct);

        int nmLayers = 0;
        foreach (var (name, mask) in result.Mask.Entries)
        {
            if (!pattern.Fits(mask.shape))
            {
                result.Mask.KeptIn(name).Should().Be(mask.numel(), $"{name} (rows M does not divide) is kept whole");
                continue;
            }

            // Independent route: per group of 4 in flat order, the 2 highest scores, ties by lower index.
            nmLayers++;
            using var s = result.Scores[name].detach().to(ScalarType.Float64).flatten();
            var scores = s.data<double>().ToArray();
            var expected = new bool[scores.Length];
            for (int g = 0; g < scores.Length; g += 4)
            {
                foreach (var i in Enumerable.Range(g, 4).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(2))
                {
                    expected[i] = true;
                }
            }

            using var flat = mask.flatten();
            flat.data<bool>().ToArray().Should().Equal(expected, name);
        }

        nmLayers.Should().Be(3, "LeNet-5's three Linear layers have rows of 256, 120 and 84 weights; the convolutions (25, 150) are kept whole");
    }
}
