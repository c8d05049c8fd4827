using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

/// <summary>The public BatchNorm re-estimation against a hand computation: the cumulative average of the batch statistics.</summary>
public sealed class BatchNormRecalibrationTests
{
    [Fact]
    public void StatisticsAreTheAverageOfTheBatchStatisticsAndModesAreRestored()
    {
        using var model = nn.Sequential(("bn", nn.BatchNorm1d(3, momentum: 0.3)));
        model.eval();
        var bn = (TorchSharp.Modules.BatchNorm1d)model.named_children().Single().module;
        using var x = tensor(new float[] { 1, 2, 3, 3, 2, 1, 0, 0, 6, 4, 4, 2, /* batch 2 */ 2, 2, 2, 4, 0, 1, 6, 2, 0, 0, 0, 1 }).reshape(8, 3);
        using var y = zeros(8, ScalarType.Int64);
        using var data = new TensorDataset(x, y, 2);

        BatchNormRecalibration.Run(model, data, batchSize: 4);

        // Batch 1: means (2, 2, 3), unbiased variances (10/3, 8/3, 14/3); batch 2: (3, 1, 1), (20/3, 4/3, 2/3).
        var mean = bn.running_mean!.data<float>().ToArray();
        var variance = bn.running_var!.data<float>().ToArray();
        mean.Should().Equal([2.5f, 1.5f, 2f], (a, b) => Math.Abs(a - b) < 1e-6);
        variance.Should().Equal([5f, 2f, 8f / 3], (a, b) => Math.Abs(a - b) < 1e-5);
        model.training.Should().BeFalse();
        bn.training.Should().BeFalse();
        bn.momentum.Should().Be(0.3);
    }

    [Fact]
    public void ABatchOfOneIsRefused()
    {
        using var model = nn.Sequential(("bn", nn.BatchNorm1d(3)));
        using var data = new TensorDataset(zeros(4, 3), zeros(4, ScalarType.Int64), 2);
        var act = () => BatchNormRecalibration.Run(model, data, batchSize: 1);
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "batchSize");
    }
}
