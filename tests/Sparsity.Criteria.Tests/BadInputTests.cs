using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

/// <summary>Bad input gives a clear exception before libtorch sees it, and the model is left unchanged.</summary>
[Collection(SequentialCollection.Name)]
public sealed class BadInputTests
{
    public static TheoryData<string> DataCriteria => new() { "snip", "grasp" };

    private static IPruningCriterion Make(string name) => name switch
    {
        "snip" => new SnipCriterion(),
        _ => new GraspCriterion(),
    };

    private static void Check(string criterion, IEnumerable<Batch> batches, Action<Exception> expect)
    {
        using var model = TestModels.Mlp322();
        model.train();
        using var snapshot = new ModelSnapshot(model);
        var act = () => Make(criterion).Score(model, TestModels.Select(model), batches, cancellationToken: Test.Ct);
        var e = act.Should().Throw<Exception>().Which;
        expect(e);
        snapshot.AssertUnchanged(model);
    }

    [Theory]
    [MemberData(nameof(DataCriteria))]
    public void NoBatches(string criterion) =>
        Check(criterion, [], e => e.Should().BeOfType<ArgumentException>().Which.ParamName.Should().Be("batches"));

    [Theory]
    [MemberData(nameof(DataCriteria))]
    public void WrongInputShape(string criterion)
    {
        using var batch = new Batch(ones(4, 5, dtype: ScalarType.Float64), zeros(4, dtype: ScalarType.Int64));
        Check(criterion, [batch], e => e.Should().BeOfType<ArgumentException>().Which.ParamName.Should().Be("batches"));
    }

    [Theory]
    [MemberData(nameof(DataCriteria))]
    public void InconsistentShapesAcrossBatches(string criterion)
    {
        using var good = TestModels.MlpBatch();
        using var bad = new Batch(ones(2, 4, dtype: ScalarType.Float64), zeros(2, dtype: ScalarType.Int64));
        Check(criterion, [good, bad], e => e.Should().BeOfType<ArgumentException>().Which.Message.Should().Contain("batch 0"));
    }

    [Theory]
    [MemberData(nameof(DataCriteria))]
    public void LabelAboveClassCount(string criterion)
    {
        using var batch = new Batch(ones(2, 3, dtype: ScalarType.Float64), tensor(new long[] { 0, 2 }));
        Check(criterion, [batch], e =>
        {
            e.Should().BeOfType<ArgumentException>().Which.ParamName.Should().Be("batches");
            e.Message.Should().Contain("label 2").And.Contain("2 classes");
        });
    }

    [Theory]
    [MemberData(nameof(DataCriteria))]
    public void NegativeLabel(string criterion)
    {
        using var batch = new Batch(ones(2, 3, dtype: ScalarType.Float64), tensor(new long[] { 0, -1 }));
        Check(criterion, [batch], e => e.Should().BeOfType<ArgumentException>().Which.ParamName.Should().Be("batches"));
    }

    [Theory]
    [MemberData(nameof(DataCriteria))]
    public void NaNInputInSecondBatchAfterWorkStarted(string criterion)
    {
        using var good = TestModels.MlpBatch();
        using var bad = new Batch(tensor(new[] { 1.0, double.NaN, 0.0 }).reshape(1, 3), tensor(new long[] { 0 }));
        Check(criterion, [good, bad], e => e.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("NaN"));
    }

    [Fact]
    public void ParameterOfAnotherModel()
    {
        using var model = TestModels.Mlp322();
        using var other = TestModels.Mlp322();
        var act = () => new MagnitudeCriterion().Score(model, TestModels.Select(other), [], cancellationToken: Test.Ct);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "parameters");
    }

    [Fact]
    public void EmptyParameterList()
    {
        using var model = TestModels.Mlp322();
        var act = () => new RandomCriterion(1).Score(model, [], [], cancellationToken: Test.Ct);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "parameters");
    }

    [Fact]
    public void NonPositiveTemperatureNamesTheOption()
    {
        var act = () => new GraspOptions { Temperature = 0 };
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "Temperature");
    }

    [Fact]
    public void ZeroRoundsNamesTheOption()
    {
        var act = () => new IterativePruningSchedule { Rounds = 0 };
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "Rounds");
    }

    [Fact]
    public void OutputThatIsNotLogitsIsRejected()
    {
        using var model = nn.Sequential(("fc", nn.Linear(3, 2, dtype: ScalarType.Float64)), ("flat", nn.Flatten(0)));
        using var batch = TestModels.MlpBatch();
        var act = () => new SnipCriterion().Score(model, TestModels.Select(model), [batch], cancellationToken: Test.Ct);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "model");
    }
}
