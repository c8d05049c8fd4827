namespace Sparsity.Benchmarks;

/// <summary>The reference models the step benchmarks run: LeNet-300-100 and ResNet-20, only LeNet under <c>--smoke</c>.</summary>
public static class BenchmarkModels
{
    /// <summary>Model names for <c>[ParamsSource]</c>.</summary>
    public static IEnumerable<string> Names =>
        Environment.GetEnvironmentVariable("SPARSITY_BENCHMARK_SMOKE") == "1" ? ["lenet300"] : ["lenet300", "resnet20"];
}
