#:project ../../src/Sparsity.Structured/Sparsity.Structured.csproj
#:project ../../src/Sparsity.Models/Sparsity.Models.csproj
#:package libtorch-cpu-linux-x64
#:property PublishAot=false
// Time of channel dependency discovery (Sparsity.Structured) on the reference models with the default options
// (probe batch 256, group check on), 1×3×32×32 input (1×1×28×28 for ResNet-20), one libtorch thread: wall-clock
// and process CPU seconds, three runs each, and whether the groups were identical across runs.
//
// OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE dotnet run benchmarks/sweeps/structured-discovery-time.cs
using System.Diagnostics;
using Sparsity.Models;
using Sparsity.Structured;
using static TorchSharp.torch;

set_num_threads(1);
foreach (var (name, shape) in new (string, long[])[] { ("resnet20", [1, 1, 28, 28]), ("resnet18", [1, 3, 32, 32]), ("resnet50", [1, 3, 32, 32]) })
{
    manual_seed(0);
    using var model = ReferenceModels.Create(name, (int)shape[1], 10);
    model.eval();
    var fingerprints = new HashSet<string>();
    for (var run = 0; run < 3; run++)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var graph = new ChannelDependencyDiscovery(new ChannelDiscoveryOptions { InputShape = shape }).Discover(model);
        wall.Stop();
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        fingerprints.Add(graph.Fingerprint);
        Console.WriteLine($"{name} run {run}: {wall.Elapsed.TotalSeconds:F1} s wall, {cpuSeconds:F1} s CPU, {graph.Groups.Count} groups, " +
            $"{graph.RemovableGroups.Count()} removable, {graph.PrunableChannelCount} prunable channels, fingerprint {graph.Fingerprint}");
    }

    Console.WriteLine($"{name}: identical groups in all runs: {fingerprints.Count == 1}");
}
