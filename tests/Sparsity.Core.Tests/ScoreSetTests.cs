using static TorchSharp.torch;

namespace Sparsity.Tests;

public sealed class ScoreSetTests
{
    [Fact]
    public void NanScoresAreRejectedNamingTheLayer()
    {
        var act = () => TestModels.Scores(("a", [1f, float.NaN], [2]));
        act.Should().Throw<ArgumentException>().WithParameterName("scores").WithMessage("*'a'*NaN*");
    }

    [Fact]
    public void IntegerScoresAreRejected()
    {
        var act = () => new ScoreSet([KeyValuePair.Create("a", tensor(new long[] { 1, 2 }))]);
        act.Should().Throw<ArgumentException>().WithMessage("*floating point*");
    }

    [Fact]
    public void DuplicateAndEmptySetsAreRejected()
    {
        var dup = () => new ScoreSet([KeyValuePair.Create("a", ones(2)), KeyValuePair.Create("a", ones(2))]);
        dup.Should().Throw<ArgumentException>().WithMessage("*'a' appears twice*");
        var empty = () => new ScoreSet([]);
        empty.Should().Throw<ArgumentException>().WithMessage("*at least one*");
    }

    [Fact]
    public void UnknownNameListsKnownNames()
    {
        using var scores = TestModels.Scores(("a", [1f], [1]), ("b", [2f], [1]));
        var act = () => scores["c"];
        act.Should().Throw<KeyNotFoundException>().WithMessage("*'c'*a, b*");
    }

    [Fact]
    public void CloneIsDeepAndCountsAreKept()
    {
        using var scores = TestModels.Scores(("a", [1f, 2f, 3f], [3]), ("b", [4f, 5f], [2]));
        using var copy = scores.Clone();
        copy["a"].add_(10);
        scores["a"].data<float>().ToArray().Should().Equal(1f, 2f, 3f);
        copy.TotalCount.Should().Be(5);
        copy.Names.Should().Equal("a", "b");
    }

    [Fact]
    public void ValidateAgainstReportsMissingUnknownAndMisShaped()
    {
        using var model = TestModels.ConvNet();
        var parameters = new ParameterSelector().Select(model);
        using var scores = TestModels.Scores(("conv.weight", new float[18], [18]), ("fc1.weight", new float[32], [4, 8]), ("other", [1f], [1]));
        var act = () => scores.ValidateAgainst(parameters);
        act.Should().Throw<ArgumentException>()
            .WithMessage("*'conv.weight' has shape [18]*missing 'fc2.weight'*unknown parameter 'other'*");
    }
}
