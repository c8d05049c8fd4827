using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Sparsity.Benchmarks;

/// <summary>
/// Resident memory of this process from <c>/proc/self/status</c> (Linux): <c>VmRSS</c> now and <c>VmHWM</c>,
/// the peak since the process started. Unlike BenchmarkDotNet's <c>MemoryDiagnoser</c>, it includes libtorch's
/// native allocations.
/// </summary>
public static class ResidentMemory
{
    /// <summary>The line a benchmark process prints (from its <c>[GlobalCleanup]</c>) for <see cref="PeakResidentMemoryColumn"/>.</summary>
    public const string PeakPrefix = "// Sparsity.PeakResidentMiB: ";

    /// <summary>Current resident memory in MiB, or NaN where <c>/proc/self/status</c> does not exist.</summary>
    public static double CurrentMiB() => Read("VmRSS:");

    /// <summary>Peak resident memory of the process so far in MiB, or NaN where <c>/proc/self/status</c> does not exist.</summary>
    public static double PeakMiB() => Read("VmHWM:");

    /// <summary>Prints the peak for <see cref="PeakResidentMemoryColumn"/>; BenchmarkDotNet runs each case in its own process, so it is that case's peak.</summary>
    public static void ReportPeak() => Console.WriteLine(FormattableString.Invariant($"{PeakPrefix}{PeakMiB():F1}"));

    private static double Read(string field)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path))
        {
            return double.NaN;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var kb = long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }

        return double.NaN;
    }
}

/// <summary>
/// "Peak RSS" column: the <c>VmHWM</c> the benchmark process printed through <see cref="ResidentMemory.ReportPeak"/>
/// (runtime, libtorch, model, data and the workload's native allocations together); "-" for suites that do not print it
/// and in process (<c>--smoke</c>), where no output is captured.
/// </summary>
public sealed class PeakResidentMemoryColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(PeakResidentMemoryColumn);

    /// <inheritdoc />
    public string ColumnName => "Peak RSS";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Metric;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "Peak resident memory of the benchmark process (VmHWM, MiB), native allocations included";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        var line = report?.ExecuteResults.SelectMany(r => r.StandardOutput ?? [])
            .LastOrDefault(l => l.StartsWith(ResidentMemory.PeakPrefix, StringComparison.Ordinal));
        return line is null ? "-" : line[ResidentMemory.PeakPrefix.Length..] + " MiB";
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
