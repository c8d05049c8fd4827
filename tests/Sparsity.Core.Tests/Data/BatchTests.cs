using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Tests.Data;

public sealed class BatchTests
{
    [Fact]
    public void ABatchPairsInputsWithIntegerLabelsOfTheSameLength()
    {
        using var x = zeros(3, 2);
        using var y = tensor(new long[] { 0, 1, 2 });
        var batch = new Batch(x, y);
        batch.Count.Should().Be(3);
        batch.Inputs.Should().BeSameAs(x);
        batch.Labels.Should().BeSameAs(y);
    }

    [Fact]
    public void BadShapesAndDtypesAreRejected()
    {
        using var x = zeros(3, 2);
        using var shortY = tensor(new long[] { 0, 1 });
        using var floatY = zeros(3);
        using var empty = zeros(0, 2);
        using var emptyY = zeros(new long[] { 0 }, ScalarType.Int64);
        var act = () => new Batch(x, shortY);
        act.Should().Throw<ArgumentException>().WithParameterName("labels").WithMessage("*(3)*(2)*");
        act = () => new Batch(x, floatY);
        act.Should().Throw<ArgumentException>().WithParameterName("labels").WithMessage("*integer*");
        act = () => new Batch(empty, emptyY);
        act.Should().Throw<ArgumentException>().WithParameterName("inputs");
    }

    [Fact]
    public void DisposeReleasesBothTensors()
    {
        var x = zeros(2, 2);
        var y = tensor(new long[] { 0, 1 });
        new Batch(x, y).Dispose();
        x.IsInvalid.Should().BeTrue();
        y.IsInvalid.Should().BeTrue();
    }
}
