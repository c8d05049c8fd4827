using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// The device every benchmark runs on: <c>SPARSITY_DEVICE</c> (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>),
/// CPU when unset. Reading a result back synchronises the device, so CUDA timings include the kernels.
/// </summary>
internal static class BenchmarkDevice
{
    /// <summary>The configured device.</summary>
    public static Device Get()
    {
        var name = Environment.GetEnvironmentVariable("SPARSITY_DEVICE");
        return string.IsNullOrWhiteSpace(name) ? CPU : new Device(name);
    }

    /// <summary>Reads a scalar back to the host (a device synchronisation point).</summary>
    public static double Read(Tensor scalar) => scalar.to(ScalarType.Float64).cpu().item<double>();
}
