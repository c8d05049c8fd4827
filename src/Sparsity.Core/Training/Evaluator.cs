using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Training;

/// <summary>Top-1 accuracy and mean cross-entropy of a classifier on a dataset.</summary>
public static class Evaluator
{
    /// <summary>
    /// Evaluates <paramref name="model"/> on every example of <paramref name="data"/> in stored order, in
    /// eval mode (BatchNorm uses running statistics, dropout is off) and without gradients. The model's
    /// previous train/eval mode is restored afterwards.
    /// </summary>
    /// <param name="model">A classifier returning logits N×C with C = <see cref="IDataset.ClassCount"/>.</param>
    /// <param name="data">The examples.</param>
    /// <param name="batchSize">Examples per forward pass (≥ 1). Default 1,000.</param>
    /// <param name="device">Device of the batches; null means the model's device.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>Accuracy (percent), mean loss, correct and total counts.</returns>
    /// <exception cref="ArgumentException">The model's output is not N×ClassCount.</exception>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, IDataset data, int batchSize = 1000, Device? device = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelDevice.CheckDataset(data, nameof(data));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        device ??= ModelDevice.Of(model);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var lossSum = zeros(1, ScalarType.Float64, device);
            using var correct = zeros(1, ScalarType.Int64, device);
            long count = 0;
            foreach (var batch in data.Batches(batchSize, device))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var logits = model.forward(batch.Inputs);
                CheckLogits(logits, batch.Count, data.ClassCount);
                var labels = batch.Labels.to(ScalarType.Int64);
                lossSum.add_(nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).to(ScalarType.Float64));
                correct.add_(logits.argmax(1).eq(labels).sum());
                count += batch.Count;
            }

            long right = correct.item<long>();
            return new EvaluationResult(100.0 * right / count, lossSum.item<double>() / count, right, count);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Checks a classifier's output shape before the loss reaches libtorch.</summary>
    internal static void CheckLogits(Tensor logits, long batchSize, int classCount)
    {
        if (logits.dim() != 2 || logits.shape[0] != batchSize || logits.shape[1] != classCount)
        {
            throw new ArgumentException(
                $"The model must return logits of shape ({batchSize}, {classCount}) for a batch of {batchSize}; it returned ({string.Join(", ", logits.shape)}).",
                "model");
        }
    }
}
