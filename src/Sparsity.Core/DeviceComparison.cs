using static TorchSharp.torch;

namespace Sparsity;

/// <summary>Device equality by value (TorchSharp's <see cref="Device"/> compares by reference).</summary>
public static class DeviceComparison
{
    /// <summary>Whether two devices are the same type and index.</summary>
    /// <param name="a">One device.</param>
    /// <param name="b">The other device.</param>
    public static bool SameAs(this Device a, Device b) => a.type == b.type && a.index == b.index;
}
