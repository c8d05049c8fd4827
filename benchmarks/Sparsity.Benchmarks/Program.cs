using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Sparsity.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project benchmarks/Sparsity.Benchmarks -- --filter '*Overlap*'</c>
/// (any BenchmarkDotNet switch works; <c>SPARSITY_DEVICE=cuda</c> moves tensor benchmarks to a GPU).
/// <c>--smoke</c> runs every selected benchmark once, in process, so CI notices a suite that no longer runs;
/// <c>--soak</c> runs the resident-memory soak instead (<see cref="SoakRunner"/>).
/// </summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    /// <param name="args">BenchmarkDotNet arguments, plus <c>--smoke</c>.</param>
    public static void Main(string[] args)
    {
        if (args.Contains("--soak"))
        {
            Environment.ExitCode = SoakRunner.Run(args);
            return;
        }

        var smoke = args.Contains("--smoke");
        var job = smoke
            ? Job.Dry.WithToolchain(InProcessEmitToolchain.Instance).WithId("Smoke")
            : Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10).WithId("Standard");
        var config = DefaultConfig.Instance.AddJob(job.AsDefault()).AddColumn(new PeakResidentMemoryColumn());
        if (smoke) Environment.SetEnvironmentVariable("SPARSITY_BENCHMARK_SMOKE", "1");
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args.Where(a => a != "--smoke").ToArray(), config);
        if (summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)))
            Environment.ExitCode = 1;
    }
}
