using BenchmarkDotNet.Running;

namespace Sparsity.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project benchmarks/Sparsity.Benchmarks -- --filter '*Overlap*'</c>
/// (any BenchmarkDotNet switch works; <c>SPARSITY_DEVICE=cuda</c> moves tensor benchmarks to a GPU).
/// </summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    /// <param name="args">BenchmarkDotNet arguments.</param>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
