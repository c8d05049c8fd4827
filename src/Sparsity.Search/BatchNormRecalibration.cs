using Sparsity.Data;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// Re-estimates every BatchNorm layer's running statistics under the model's current weights (after pruning, a
/// search or a compaction the pre-trained statistics no longer describe the activations): statistics reset, one
/// train-mode forward pass over the data without gradients, averaged cumulatively (momentum null), then each
/// layer's momentum and each module's train/eval mode restored. Parameters are not changed. Used by
/// <see cref="BatchNormPolicy.RecalibrateAfter"/>; the "BatchNorm during the search" section of docs/algorithms.md
/// explains why.
/// </summary>
public static class BatchNormRecalibration
{
    /// <summary>Re-estimates the running statistics of every BatchNorm layer of <paramref name="model"/> over <paramref name="data"/>.</summary>
    /// <param name="model">The model; its BatchNorm buffers are replaced, everything else is left as it was.</param>
    /// <param name="data">The data the statistics are estimated on (usually the training set), in order, once.</param>
    /// <param name="batchSize">Mini-batch size of the pass (at least 2, as train-mode BatchNorm needs).</param>
    /// <param name="device">Where the batches go; null for the device of the model's first parameter.</param>
    /// <param name="cancellationToken">Cancels between batches; the statistics are then partial.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 2.</exception>
    public static void Run(nn.Module<Tensor, Tensor> model, IDataset data, int batchSize = 256, Device? device = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 2 (train-mode BatchNorm needs more than one value per channel).");
        }

        device ??= model.parameters().FirstOrDefault()?.device ?? CPU;
        var norms = model.named_modules().Select(m => m.module).OfType<NormBase>().ToList();
        if (norms.Count == 0)
        {
            return;
        }

        var momenta = norms.Select(n => n.momentum).ToList();
        foreach (var n in norms)
        {
            n.reset_running_stats();
            n.momentum = null; // cumulative average
        }

        var modes = TrainingModes.Capture(model);
        model.train();
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in data.Batches(batchSize, device))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                model.call(batch.Inputs);
            }
        }
        finally
        {
            modes.Restore();
            for (int i = 0; i < norms.Count; i++)
            {
                norms[i].momentum = momenta[i];
            }
        }
    }
}
