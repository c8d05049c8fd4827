using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Tests.Data;

public sealed class TensorDatasetTests
{
    private static TensorDataset Numbered(int n)
    {
        using var x = arange(n, ScalarType.Float32).reshape(n, 1);
        using var y = arange(n, ScalarType.Int64).remainder(3);
        return new TensorDataset(x, y, 3);
    }

    private static long[] Order(TensorDataset data, int batchSize, long? seed, bool dropLast = false) =>
        data.Batches(batchSize, CPU, seed, dropLast).SelectMany(b => b.Inputs.flatten().data<float>().ToArray().Select(v => (long)v)).ToArray();

    [Fact]
    public void UnshuffledBatchesFollowTheStoredOrderAndKeepTheLastPartialBatch()
    {
        using var data = Numbered(10);
        var sizes = data.Batches(4, CPU).Select(b => b.Count).ToList();
        sizes.Should().Equal(4L, 4L, 2L);
        Order(data, 4, null).Should().Equal(Enumerable.Range(0, 10).Select(i => (long)i));
        data.Batches(4, CPU, dropLast: true).Select(b => b.Count).Should().Equal(4L, 4L);
    }

    [Fact]
    public void ShuffledBatchesAreAPermutationFixedByTheSeedAndLabelsFollowTheirInputs()
    {
        using var data = Numbered(50);
        var a = Order(data, 7, 5);
        a.Should().BeEquivalentTo(Enumerable.Range(0, 50).Select(i => (long)i));
        a.Should().NotEqual(Enumerable.Range(0, 50).Select(i => (long)i));
        Order(data, 7, 5).Should().Equal(a);
        Order(data, 50, 5).Should().Equal(a, "the permutation does not depend on the batch size");
        Order(data, 7, 6).Should().NotEqual(a);
        foreach (var batch in data.Batches(7, CPU, 5))
        {
            var x = batch.Inputs.flatten().data<float>().ToArray();
            var y = batch.Labels.data<long>().ToArray();
            y.Should().Equal(x.Select(v => (long)v % 3));
        }
    }

    [Fact]
    public void ShufflingDoesNotTouchTheGlobalGenerator()
    {
        using var data = Numbered(20);
        manual_seed(3);
        using var expected = rand(4);
        manual_seed(3);
        _ = Order(data, 4, 9);
        using var actual = rand(4);
        TestModels.Same(expected, actual).Should().BeTrue();
    }

    [Fact]
    public void SubsetTakesTheFirstOrASeededSample()
    {
        using var data = Numbered(20);
        using var first = data.Subset(5);
        Order(first, 5, null).Should().Equal(0L, 1L, 2L, 3L, 4L);
        using var s1 = data.Subset(5, seed: 1);
        using var s2 = data.Subset(5, seed: 1);
        Order(s1, 5, null).Should().Equal(Order(s2, 5, null)).And.OnlyHaveUniqueItems();
        var act = () => data.Subset(21);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("count");
    }

    [Fact]
    public void ConstructorRejectsBadInput()
    {
        using var x = zeros(4, 2);
        using var y = tensor(new long[] { 0, 1, 2, 3 });
        var act = () => new TensorDataset(x, y, 3);
        act.Should().Throw<ArgumentException>().WithParameterName("labels").WithMessage("*[0, 3)*");
        using var shortY = tensor(new long[] { 0, 1 });
        act = () => new TensorDataset(x, shortY, 3);
        act.Should().Throw<ArgumentException>().WithParameterName("labels");
        using var ints = zeros(new long[] { 4, 2 }, ScalarType.Int32);
        act = () => new TensorDataset(ints, y, 5);
        act.Should().Throw<ArgumentException>().WithParameterName("inputs");
        var badBatch = () => data().Batches(0, CPU).ToList();
        badBatch.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("batchSize");

        TensorDataset data() => new(x, y, 4);
    }

    [Fact]
    public void BatchesAreDisposedWhenTheEnumerationAdvances()
    {
        using var data = Numbered(6);
        Batch? previous = null;
        foreach (var batch in data.Batches(2, CPU))
        {
            if (previous is not null)
            {
                previous.Inputs.IsInvalid.Should().BeTrue();
            }

            batch.Inputs.IsInvalid.Should().BeFalse();
            previous = batch;
        }

        previous!.Inputs.IsInvalid.Should().BeTrue();
    }
}
