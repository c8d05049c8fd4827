using System.Globalization;
using System.Text.Json;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.Models;
using Sparsity.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Benchmarks;

/// <summary>
/// Resident-memory soak (<c>--soak</c>): 1,000 jackpot search steps on LeNet-300-100 (batch 64) and 200 on ResNet-20
/// (batch 16), random Fashion-MNIST-shaped data, 90 % magnitude initial mask, short restriction, each measured after
/// a warm-up of as many search steps in the same search (<c>--warmup-scale F</c> runs F times as many; 0 for none).
/// Resident memory (<c>VmRSS</c>, native allocations included) is sampled before the search and after every 10 % of
/// the measured steps, warm-up included; drift is (end − start) / start, start being the sample at the end of the
/// warm-up (without one, the sample after the first 10 % of the steps), once the allocators hold their working set
/// (goal: |drift| &lt; 5 %); <c>warmup_growth</c> says how much resident memory grew during the warm-up. Writes JSON
/// to <c>--out PATH</c> (default <c>benchmarks/results/soak-resident-memory.json</c>), through a temporary file.
/// <c>--collect</c> runs a full garbage collection (with finalizers) before each sample: resident memory that then
/// goes away was held by objects nobody disposed, which only the finalizer frees. <c>--release-eagerly</c> first calls
/// <see cref="NativeAllocator.ReleaseFreedMemoryEagerly"/> (glibc gives freed memory back at once).
/// </summary>
public static class SoakRunner
{
    /// <summary>Runs the soak; returns the process exit code (0 when every drift is below 5 %).</summary>
    /// <param name="args">
    /// Command-line arguments; <c>--out PATH</c>, <c>--steps-scale F</c> (multiple of the measured steps: 0.1 for a quick
    /// check, 10 for a long run) and <c>--warmup-scale F</c> (warm-up steps as a multiple of the measured ones) are read.
    /// </param>
    public static int Run(string[] args)
    {
        string output = Argument(args, "--out") ?? Path.Combine("benchmarks", "results", "soak-resident-memory.json");
        double scale = double.Parse(Argument(args, "--steps-scale") ?? "1", CultureInfo.InvariantCulture);
        double warmupScale = double.Parse(Argument(args, "--warmup-scale") ?? "1", CultureInfo.InvariantCulture);
        int Epochs(int full) => Math.Max(1, (int)Math.Round(full * scale));
        bool collect = args.Contains("--collect");
        bool eager = args.Contains("--release-eagerly") && NativeAllocator.ReleaseFreedMemoryEagerly();
        var runs = new List<Dictionary<string, object>>
        {
            Soak("lenet300", batches: 100, batchSize: 64, epochs: Epochs(10), warmupEpochs: (int)Math.Round(Epochs(10) * warmupScale), collect),
            Soak("resnet20", batches: 50, batchSize: 16, epochs: Epochs(4), warmupEpochs: (int)Math.Round(Epochs(4) * warmupScale), collect),
            DenseSoak("lenet300", batches: 100, batchSize: 64, epochs: Math.Max(2, Epochs(10)), collect),
        };
        var report = new Dictionary<string, object>
        {
            ["_about"] = "Resident memory (VmRSS, MiB) during a jackpot search; drift = (end − start) / start over the measured steps, " +
                "start = the sample after the warm-up steps (same search, run first). " +
                "Command: OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE dotnet run -c Release --project benchmarks/Sparsity.Benchmarks -- --soak " +
                "[--collect] [--release-eagerly] [--steps-scale F] [--warmup-scale F] [--out PATH], optionally with DOTNET_GCgen0size set",
            ["threads"] = get_num_threads(),
            ["release_freed_memory_eagerly"] = eager,
            ["gc_gen0_budget"] = Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "default", // e.g. 0x400000 (4 MiB)
            ["runs"] = runs,
        };
        var directory = Path.GetDirectoryName(Path.GetFullPath(output))!;
        Directory.CreateDirectory(directory);
        var temporary = output + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temporary, output, overwrite: true);
        Console.WriteLine(File.ReadAllText(output));
        return runs.Take(2).All(r => Math.Abs((double)r["drift"]) < 0.05) ? 0 : 1;
    }

    private static Dictionary<string, object> Soak(string model, int batches, int batchSize, int epochs, int warmupEpochs, bool collect)
    {
        using var network = Network(model);
        using var data = RandomData(batches * batchSize);
        var options = new MaskSearchOptions { Epochs = warmupEpochs + epochs, BatchSize = batchSize, EvaluateEveryEpoch = false, ProgressInterval = 1 };
        var parameters = new ParameterSelector(options.Parameters).Select(network);
        using var initial = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), 0.9).Initialize(network, parameters, []);
        long measured = (long)batches * epochs, warmup = (long)batches * warmupEpochs, total = warmup + measured;
        var samples = new List<double[]>();
        double before = ResidentMemory.CurrentMiB();
        var progress = new StepSampler(p =>
        {
            long step = ((p.Epoch - 1) * p.StepsPerEpoch) + p.Step;
            if ((step % Math.Max(1, measured / 10) == 0 || step == warmup || step == total) && (samples.Count == 0 || samples[^1][0] != step))
            {
                if (collect)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }

                var stats = DisposeScopeManager.Statistics;
                samples.Add([step, ResidentMemory.CurrentMiB(), GC.GetTotalMemory(false) / 1048576.0, stats.ThreadTotalLiveCount, stats.CreatedOutsideScopeCount]);
            }
        });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long flips;
        using (var result = new MaskSearcher(options).Search(network, initial, data, progress: progress))
        {
            flips = result.History.Sum(h => h.FlipsAccepted);
        }

        var first = samples[0];
        var startSample = warmup == 0 ? first : samples.First(s => s[0] == warmup);
        double start = startSample[1], end = samples[^1][1];
        var run = new Dictionary<string, object>
        {
            ["model"] = model,
            ["steps"] = measured,
            ["warmup_steps"] = warmup,
            ["gc_collect_before_each_sample"] = collect,
            ["batch"] = batchSize,
            ["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 1),
            ["flips_accepted"] = flips,
            ["rss_before_search_mib"] = Math.Round(before, 1),
            ["rss_start_mib"] = Math.Round(start, 1),
            ["rss_end_mib"] = Math.Round(end, 1),
            ["drift"] = Math.Round((end - start) / start, 4),
            ["warmup_growth"] = Math.Round((start - first[1]) / first[1], 4), // from the first sample (after a tenth of the measured steps) to the start
            ["peak_rss_mib"] = Math.Round(ResidentMemory.PeakMiB(), 1),
            ["managed_heap_start_mib"] = Math.Round(startSample[2], 1),
            ["managed_heap_end_mib"] = Math.Round(samples[^1][2], 1),
            ["samples_step_rss_managed_mib_live_outside"] = samples.Select(s => $"{s[0]}: {s[1]:F1} / {s[2]:F1} / {s[3]} / {s[4]}").ToList(),
        };
        Console.WriteLine($"{model}: {warmup} warm-up + {measured} steps, {flips} accepted flips, RSS {start:F1} → {end:F1} MiB, drift {(end - start) / start:P2}");
        return run;
    }

    /// <summary>The same data and steps through the dense <see cref="Sparsity.Training.Trainer"/>: locates growth outside the search.</summary>
    private static Dictionary<string, object> DenseSoak(string model, int batches, int batchSize, int epochs, bool collect)
    {
        using var network = Network(model);
        using var data = RandomData(batches * batchSize);
        var options = Sparsity.Training.TrainingOptions.ReferenceRecipe with { Epochs = 1, BatchSize = batchSize };
        double Sample()
        {
            if (collect)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            return ResidentMemory.CurrentMiB();
        }

        new Sparsity.Training.Trainer().Train(network, data, null, options);
        double start = Sample();
        for (int e = 1; e < epochs; e++)
        {
            new Sparsity.Training.Trainer().Train(network, data, null, options);
        }

        double end = Sample();
        Console.WriteLine($"{model} dense: {(long)batches * epochs} steps, RSS {start:F1} → {end:F1} MiB, drift {(end - start) / start:P2}");
        return new Dictionary<string, object>
        {
            ["model"] = model + " (dense Trainer, for comparison)",
            ["steps"] = (long)batches * epochs,
            ["gc_collect_before_each_sample"] = collect,
            ["batch"] = batchSize,
            ["rss_start_mib"] = Math.Round(start, 1),
            ["rss_end_mib"] = Math.Round(end, 1),
            ["drift"] = Math.Round((end - start) / start, 4),
        };
    }

    private static string? Argument(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>A synchronous <see cref="IProgress{T}"/> (the search reports on its own thread).</summary>
    private sealed class StepSampler(Action<SearchProgress> report) : IProgress<SearchProgress>
    {
        public void Report(SearchProgress value) => report(value);
    }

    /// <summary>The reference model, initialised from seed 0.</summary>
    private static nn.Module<Tensor, Tensor> Network(string model)
    {
        manual_seed(0);
        return ReferenceModels.Create(model, inputChannels: 1, classCount: 10);
    }

    /// <summary>Random 1×28×28 images with random labels (seed 1): the same data for every soak row.</summary>
    private static TensorDataset RandomData(long count)
    {
        var generator = new Generator(1);
        using var x = randn(new long[] { count, 1, 28, 28 }, generator: generator);
        using var y = randint(0, 10, new long[] { count }, generator: generator);
        return new TensorDataset(x, y, 10);
    }
}
