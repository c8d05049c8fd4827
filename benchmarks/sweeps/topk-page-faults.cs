#:project ../../src/Sparsity.Core/Sparsity.Core.csproj
#:package libtorch-cpu-linux-x64
#:property PublishAot=false
// Where the global top-k's time goes beyond its passes over the scores: the minor page faults per call (from
// /proc/self/stat) and the median time of AllocationBenchmarks' cases, in one process: a one-pass max over the
// scores, GlobalAllocation of 90 % over 20 layers, and writing one fresh bool block of the same size (empty + fill_).
// Linux only (minor faults are read from /proc).
//
// OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE dotnet run -c Release benchmarks/sweeps/topk-page-faults.cs -- [COUNT]
using System.Diagnostics;
using Sparsity;
using static TorchSharp.torch;

int count = args.Length > 0 ? int.Parse(args[0]) : 25_600_000;
const int Layers = 20;
using var flat = rand(new long[] { count }, generator: new Generator(0));
var sizes = Enumerable.Repeat((long)(count / Layers), Layers).ToArray();
sizes[^1] += count - sizes.Sum();
using var scores = new ScoreSet(flat.split(sizes, 0).Select((p, i) => KeyValuePair.Create($"layer{i}.weight", p.clone())).ToList());

var (onePass, onePassFaults) = Measure(() => { using var max = flat.max(); _ = max.item<float>(); });
var (global, globalFaults) = Measure(() => { using var masks = new GlobalAllocation(allowEmptyLayers: true).Allocate(scores, 0.9); });
var (fresh, freshFaults) = Measure(() => { using var block = empty(count, ScalarType.Bool); block.fill_(false); });
Console.WriteLine($"{count:N0} scores, {get_num_threads()} threads, medians of 100 calls after 60: one pass {onePass:F2} ms ({onePassFaults:F0} minor faults a call); " +
    $"global allocation {global:F2} ms = {global / onePass:F2} passes ({globalFaults:F0} faults; the masks span {count / 4096:N0} pages); " +
    $"fresh bool block {fresh:F2} ms = {fresh / onePass:F2} passes ({freshFaults:F0} faults)");

static (double Milliseconds, double FaultsPerCall) Measure(Action action)
{
    for (int i = 0; i < 60; i++)
    {
        action();
    }

    var times = new List<double>();
    long faults = MinorFaults();
    for (int i = 0; i < 100; i++)
    {
        var watch = Stopwatch.StartNew();
        action();
        times.Add(watch.Elapsed.TotalMilliseconds);
    }

    return (times.Order().ElementAt(50), (MinorFaults() - faults) / 100.0);
}

static long MinorFaults() => long.Parse(File.ReadAllText("/proc/self/stat").Split(") ")[1].Split(' ')[7]); // field 10, minflt
