using static TorchSharp.torch;

namespace Sparsity;

/// <summary>
/// Every explicit read of a tensor value back to the host on the search's per-step path goes through here, so
/// that tests can count them (on a GPU each read waits for the stream). The counter is per thread.
/// </summary>
internal static class HostReads
{
    [ThreadStatic]
    private static long t_count;

    /// <summary>Reads on this thread so far.</summary>
    public static long Count => t_count;

    /// <summary>The value of a one-element tensor (one read).</summary>
    public static T Item<T>(Tensor value)
        where T : unmanaged
    {
        t_count++;
        return value.item<T>();
    }

    /// <summary>Several values at once: the 1-D float64 tensor's elements, copied to the host in one read.</summary>
    public static double[] Values(Tensor values)
    {
        t_count++;
        using var host = values.to(ScalarType.Float64).cpu();
        return host.data<double>().ToArray();
    }
}
