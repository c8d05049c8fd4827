using Sparsity.Data;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Search;

/// <summary>
/// Re-estimates every BatchNorm layer's running statistics under the model's current (masked) weights: statistics
/// reset, one train-mode forward pass over the data with a cumulative average (momentum null), then each layer's
/// momentum and each module's train/eval mode restored. Used by <see cref="BatchNormPolicy.RecalibrateAfter"/>.
/// </summary>
internal static class BatchNormRecalibration
{
    public static void Run(nn.Module<Tensor, Tensor> model, IDataset train, int batchSize, Device device, CancellationToken cancellationToken)
    {
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
            foreach (var batch in train.Batches(batchSize, device))
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
