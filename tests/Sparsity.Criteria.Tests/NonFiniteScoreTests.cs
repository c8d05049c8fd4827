using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

/// <summary>
/// A non-finite weight cannot become a kept weight through its score: every criterion's NaN/±∞ scores are
/// rejected with an exception naming a parameter (issue: a +∞ weight passed the magnitude criterion and was kept).
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class NonFiniteScoreTests
{
    public static TheoryData<string, float> Cases => new()
    {
        { "magnitude", float.PositiveInfinity },
        { "magnitude", float.NegativeInfinity },
        { "magnitude", float.NaN },
        { "snip", float.PositiveInfinity },
        { "grasp", float.PositiveInfinity },
        { "grasp", float.NegativeInfinity },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ANonFiniteWeightIsRejectedNamingAParameter(string criterion, float poison)
    {
        using var model = TestModels.Mlp322();
        var parameters = TestModels.Select(model);
        var target = parameters[^1];
        using (no_grad())
        {
            target.Weight.view(-1)[0] = poison;
        }

        IPruningCriterion c = criterion switch
        {
            "magnitude" => new MagnitudeCriterion(),
            "snip" => new SnipCriterion(),
            _ => new GraspCriterion(),
        };
        using var batch = TestModels.MlpBatch();
        var act = () => c.Score(model, parameters, [batch], cancellationToken: Test.Ct).Dispose();
        if (criterion == "magnitude")
        {
            act.Should().Throw<ArgumentException>().WithMessage($"*'{target.Name}'*non-finite*");
        }
        else
        {
            // The data criteria stop earlier, at the non-finite loss (their documented InvalidOperationException), or at the scores.
            act.Should().Throw<Exception>().Which.Should().Match<Exception>(e =>
                e is InvalidOperationException && e.Message.Contains("loss of batch 0") || e is ArgumentException);
        }
    }
}
