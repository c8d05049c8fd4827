using System.Diagnostics;
using static TorchSharp.torch;

namespace Sparsity.Samples;

/// <summary>The samples' latency measurement: the median of timed forward passes without gradients (a sample's figure, not a benchmark).</summary>
public static class ForwardLatency
{
    /// <summary>Median milliseconds of <paramref name="repeats"/> forward passes of a random 1×28×28 batch, after <paramref name="warmup"/> untimed ones.</summary>
    /// <param name="model">The model, called through <c>call</c> (hooks included).</param>
    /// <param name="batch">Examples per pass.</param>
    /// <param name="repeats">Timed passes.</param>
    /// <param name="warmup">Untimed passes first.</param>
    public static double MedianMs(nn.Module<Tensor, Tensor> model, int batch, int repeats, int warmup)
    {
        using var noGrad = no_grad();
        using var x = randn(batch, 1, 28, 28);
        var times = new double[repeats];
        for (int i = -warmup; i < repeats; i++)
        {
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            model.call(x);
            if (i >= 0)
            {
                times[i] = watch.Elapsed.TotalMilliseconds;
            }
        }

        Array.Sort(times);
        return times[repeats / 2];
    }
}
