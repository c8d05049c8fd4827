#:project ../../src/Sparsity.Core/Sparsity.Core.csproj
#:project ../../src/Sparsity.Models/Sparsity.Models.csproj
#:package libtorch-cpu-linux-x64
#:property PublishAot=false
// One dense training step of LeNet-300-100 and ResNet-20 (batch 128 of 1×28×28, 10 classes, cross-entropy,
// SGD momentum 0.9, weight decay 5e-4, lr 0.1) timed in TorchSharp: forward (with the loss), backward and the
// optimiser step separately, 5 warm-up steps then the median of STEPS (default 30), at 1 and 2 libtorch threads;
// then the evaluation forward pass (eval mode) under no_grad and under inference_mode, alternating.
// The twin is dense_step.py (the same step in PyTorch); run both through measure.sh.
//
// dotnet run benchmarks/dense-step/dense-step.cs -- OUT.json
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sparsity.Models;
using static TorchSharp.torch;

int steps = int.Parse(Environment.GetEnvironmentVariable("STEPS") ?? "30", CultureInfo.InvariantCulture);
const int warmup = 5, batch = 128;
var rows = new List<Dictionary<string, object>>();
foreach (var threads in new[] { 1, 2 })
{
    set_num_threads(threads);
    foreach (var name in new[] { "lenet300", "resnet20" })
    {
        manual_seed(0);
        using var model = ReferenceModels.Create(name, inputChannels: 1, classCount: 10);
        model.train();
        var generator = new Generator(1);
        using var x = randn(new long[] { batch, 1, 28, 28 }, generator: generator);
        using var y = randint(0, 10, new long[] { batch }, generator: generator);
        using var optimizer = optim.SGD(model.parameters(), 0.1, momentum: 0.9, weight_decay: 5e-4);
        var forward = new List<double>();
        var backward = new List<double>();
        var step = new List<double>();
        var watch = new Stopwatch();
        for (int i = 0; i < warmup + steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            watch.Restart();
            var loss = nn.functional.cross_entropy(model.call(x), y);
            double f = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            loss.backward();
            double b = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            optimizer.step();
            double s = watch.Elapsed.TotalMilliseconds;
            if (i >= warmup)
            {
                forward.Add(f);
                backward.Add(b);
                step.Add(s);
            }
        }

        // Evaluation forward passes (eval mode) under no_grad and under inference_mode.
        model.eval();
        var evaluation = new Dictionary<string, List<double>> { ["no_grad"] = [], ["inference_mode"] = [] };
        for (int i = 0; i < warmup + steps; i++)
        {
            foreach (var (mode, times) in evaluation)
            {
                using var scope = NewDisposeScope();
                using IDisposable guard = mode == "no_grad" ? no_grad() : inference_mode();
                watch.Restart();
                model.call(x);
                if (i >= warmup)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
            }
        }

        var total = forward.Zip(backward, step).Select(t => t.First + t.Second + t.Third).ToList();
        rows.Add(new Dictionary<string, object>
        {
            ["model"] = name,
            ["threads"] = threads,
            ["batch"] = batch,
            ["step_ms"] = Median(total),
            ["forward_ms"] = Median(forward),
            ["backward_ms"] = Median(backward),
            ["optimizer_ms"] = Median(step),
            ["eval_no_grad_ms"] = Median(evaluation["no_grad"]),
            ["eval_inference_mode_ms"] = Median(evaluation["inference_mode"]),
        });
        Console.WriteLine($"torchsharp {name} threads {threads}: {Median(total):F1} ms");
    }
}

var output = args.Length > 0 ? args[0] : "dense-step-torchsharp.json";
File.WriteAllText(output + ".tmp", JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
File.Move(output + ".tmp", output, overwrite: true);

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    int n = sorted.Count;
    return Math.Round(n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2, 3);
}
