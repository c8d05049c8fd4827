// The runs here take well under a second each; they use the default cancellation token (the tests of cancellation pass their own).
#pragma warning disable xUnit1051

using Sparsity.Data;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests.Training;

public sealed class EvaluatorTests
{
    /// <summary>A linear 2→3 classifier with weights I-like: logits = (x0, x1, 0) + bias (0, 0, 0.5).</summary>
    private static nn.Module<Tensor, Tensor> HandBuilt()
    {
        var linear = nn.Linear(2, 3);
        using (no_grad())
        {
            using var w = tensor(new float[] { 1, 0, 0, 1, 0, 0 }).reshape(3, 2);
            using var b = tensor(new float[] { 0, 0, 0.5f });
            linear.weight!.copy_(w);
            linear.bias!.copy_(b);
        }

        return linear;
    }

    [Fact]
    public void AccuracyAndLossMatchAHandComputation()
    {
        // Inputs and labels; logits (x0, x1, 0.5).
        float[,] x = { { 2, 0 }, { 0, 3 }, { 0, 0 }, { 1, 1 }, { 0, 0 } };
        long[] y = { 0, 1, 2, 1, 0 };
        using var inputs = tensor(new float[] { 2, 0, 0, 3, 0, 0, 1, 1, 0, 0 }).reshape(5, 2);
        using var labels = tensor(y);
        using var data = new TensorDataset(inputs, labels, 3);
        using var model = HandBuilt();

        // Predictions by hand: (2,0,.5)→0 ✓, (0,3,.5)→1 ✓, (0,0,.5)→2 ✓, (1,1,.5)→0 (argmax ties → first) ✗ label 1, (0,0,.5)→2 ✗ label 0.
        double expectedLoss = 0;
        for (int i = 0; i < 5; i++)
        {
            double[] logits = [x[i, 0], x[i, 1], 0.5];
            var logSum = Math.Log(logits.Sum(Math.Exp));
            expectedLoss += logSum - logits[y[i]];
        }

        expectedLoss /= 5;
        foreach (var batchSize in new[] { 1, 2, 5, 100 })
        {
            var result = Evaluator.Evaluate(model, data, batchSize);
            result.Correct.Should().Be(3);
            result.Count.Should().Be(5);
            result.Accuracy.Should().BeApproximately(60.0, 1e-12);
            result.Loss.Should().BeApproximately(expectedLoss, 1e-6);
        }
    }

    [Fact]
    public void RestoresTheModesAndTurnsOffDropoutAndBatchStatistics()
    {
        using var inputs = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var labels = tensor(new long[] { 0, 1 });
        using var data = new TensorDataset(inputs, labels, 2);
        var model = nn.Sequential(("bn", nn.BatchNorm1d(2)), ("drop", nn.Dropout(0.9)), ("fc", nn.Linear(2, 2)));
        using var meanBefore = ((TorchSharp.Modules.BatchNorm1d)model[0]).running_mean!.clone();
        model.train();
        var a = Evaluator.Evaluate(model, data);
        model.training.Should().BeTrue();
        using var meanAfter = ((TorchSharp.Modules.BatchNorm1d)model[0]).running_mean!.clone();
        TestModels.Same(meanBefore, meanAfter).Should().BeTrue("eval mode must not update running statistics");
        var b = Evaluator.Evaluate(model, data);
        b.Should().Be(a, "eval mode is deterministic (no dropout)");
        model.eval();
        Evaluator.Evaluate(model, data);
        model.training.Should().BeFalse();
    }

    [Fact]
    public void AWrongOutputShapeIsRejectedBeforeTheLoss()
    {
        using var inputs = zeros(3, 2);
        using var labels = tensor(new long[] { 0, 1, 3 });
        using var data = new TensorDataset(inputs, labels, 4);
        using var model = HandBuilt(); // 3 outputs for 4 classes
        var act = () => Evaluator.Evaluate(model, data);
        act.Should().Throw<ArgumentException>().WithParameterName("model").WithMessage("*(3, 4)*(3, 3)*");
    }
}
