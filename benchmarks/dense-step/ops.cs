#:project ../../src/Sparsity.Core/Sparsity.Core.csproj
#:package libtorch-cpu-linux-x64
#:property PublishAot=false
// Per-operator account of the ResNet-20 training step of dense-step.cs, in TorchSharp (libtorch 2.10): the same
// operators at the same shapes as ops.py (its twin; the docstring there describes the measurement), timed the same
// way. Run both through measure-ops.sh.
//
// dotnet run benchmarks/dense-step/ops.cs -- OUT.json
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using static TorchSharp.torch;

const int batch = 128, warmup = 5;
int steps = int.Parse(Environment.GetEnvironmentVariable("STEPS") ?? "30", CultureInfo.InvariantCulture);
(string Name, string Kind, int In, int Out, int Size, int Stride, int Count, bool InputGrad)[] ops =
[
    ("conv 1>16 28x28", "conv", 1, 16, 28, 1, 1, false),
    ("conv 16>16 28x28", "conv", 16, 16, 28, 1, 6, true),
    ("conv 16>32 28x28 s2", "conv", 16, 32, 28, 2, 1, true),
    ("conv 32>32 14x14", "conv", 32, 32, 14, 1, 5, true),
    ("conv 32>64 14x14 s2", "conv", 32, 64, 14, 2, 1, true),
    ("conv 64>64 7x7", "conv", 64, 64, 7, 1, 5, true),
    ("batchnorm 16 28x28", "bn", 16, 16, 28, 1, 7, true),
    ("batchnorm 32 14x14", "bn", 32, 32, 14, 1, 6, true),
    ("batchnorm 64 7x7", "bn", 64, 64, 7, 1, 6, true),
    ("relu 16 28x28", "relu", 16, 16, 28, 1, 7, true),
    ("relu 32 14x14", "relu", 32, 32, 14, 1, 6, true),
    ("relu 64 7x7", "relu", 64, 64, 7, 1, 6, true),
    ("add 16 28x28", "add", 16, 16, 28, 1, 3, true),
    ("add 32 14x14", "add", 32, 32, 14, 1, 3, true),
    ("add 64 7x7", "add", 64, 64, 7, 1, 3, true),
    ("zero-pad shortcut 16>32", "pad", 16, 32, 28, 2, 1, true),
    ("zero-pad shortcut 32>64", "pad", 32, 64, 14, 2, 1, true),
    ("pool + linear + loss", "head", 64, 10, 7, 1, 1, true),
    ("SGD step (all parameters)", "sgd", 0, 0, 0, 1, 1, false),
];

var rows = new List<Dictionary<string, object>>();
foreach (var threads in new[] { 1, 2 })
{
    set_num_threads(threads);
    foreach (var (name, kind, cin, cout, size, stride, count, inputGrad) in ops)
    {
        var (f, b) = kind == "sgd" ? TimeSgd() : TimeOp(kind, cin, cout, size, stride, inputGrad);
        rows.Add(new() { ["op"] = name, ["threads"] = threads, ["count"] = count, ["forward_ms"] = Math.Round(f, 4), ["backward_ms"] = Math.Round(b, 4) });
        Console.WriteLine(FormattableString.Invariant($"torchsharp threads {threads} {name}: forward {f:F3} ms, backward {b:F3} ms"));
    }
}

var output = args.Length > 0 ? args[0] : "ops-torchsharp.json";
File.WriteAllText(output + ".tmp", JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
File.Move(output + ".tmp", output, overwrite: true);

(double Forward, double Backward) TimeOp(string kind, int cin, int cout, int size, int stride, bool inputGrad)
{
    var g = new Generator(7);
    using var keep = NewDisposeScope();
    var x = randn([batch, cin, size, size], generator: g).requires_grad_(inputGrad);
    var leaves = new List<Tensor> { x };
    Func<Tensor> forward;
    switch (kind)
    {
        case "conv":
            var w = (randn([cout, cin, 3, 3], generator: g) * 0.1).requires_grad_();
            leaves.Add(w);
            forward = () => nn.functional.conv2d(x, w, null, strides: [stride, stride], padding: [1, 1]);
            break;
        case "bn":
            var gamma = ones(cin).requires_grad_();
            var beta = zeros(cin).requires_grad_();
            var mean = zeros(cin);
            var variance = ones(cin);
            leaves.AddRange([gamma, beta]);
            forward = () => nn.functional.batch_norm(x, mean, variance, gamma, beta, true, 0.1, 1e-5);
            break;
        case "relu":
            forward = () => nn.functional.relu(x);
            break;
        case "add":
            var y = randn([batch, cin, size, size], generator: g).requires_grad_();
            leaves.Add(y);
            forward = () => x + y;
            break;
        case "pad":
            long lo = (cout - cin) / 2;
            forward = () => nn.functional.pad(x.index(TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(null, null, stride), TensorIndex.Slice(null, null, stride)),
                [0, 0, 0, 0, lo, cout - cin - lo]);
            break;
        case "head":
            var hw = (randn([cout, cin], generator: g) * 0.1).requires_grad_();
            var hb = zeros(cout).requires_grad_();
            var labels = randint(0, cout, [batch], generator: g);
            leaves.AddRange([hw, hb]);
            forward = () => nn.functional.cross_entropy(nn.functional.linear(nn.functional.adaptive_avg_pool2d(x, [1, 1]).flatten(1), hw, hb), labels);
            break;
        default:
            throw new ArgumentException(kind);
    }

    Tensor upstream;
    using (no_grad())
    {
        upstream = randn(forward().shape, generator: g);
    }

    var fw = new List<double>();
    var bw = new List<double>();
    var watch = new Stopwatch();
    for (int i = 0; i < warmup + steps; i++)
    {
        using var scope = NewDisposeScope();
        foreach (var leaf in leaves)
        {
            leaf.grad = null;
        }

        watch.Restart();
        var output = forward();
        double f = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        output.backward([upstream]);
        double b = watch.Elapsed.TotalMilliseconds;
        if (i >= warmup)
        {
            fw.Add(f);
            bw.Add(b);
        }
    }

    return (Median(fw), Median(bw));
}

(double, double) TimeSgd()
{
    using var keep = NewDisposeScope();
    var shapes = new List<long[]> { new long[] { 16, 1, 3, 3 }, new long[] { 16 }, new long[] { 16 } };
    long inp = 16;
    foreach (var planes in new long[] { 16, 32, 64 })
    {
        for (int i = 0; i < 3; i++)
        {
            shapes.AddRange([[planes, inp, 3, 3], [planes], [planes], [planes, planes, 3, 3], [planes], [planes]]);
            inp = planes;
        }
    }

    shapes.AddRange([[10, 64], [10]]);
    var parameters = shapes.Select(s => new TorchSharp.Modules.Parameter(randn(s))).ToList();
    foreach (var p in parameters)
    {
        p.grad = randn(p.shape);
    }

    using var optimizer = optim.SGD(parameters, 0.1, momentum: 0.9, weight_decay: 5e-4);
    var times = new List<double>();
    var watch = new Stopwatch();
    for (int i = 0; i < warmup + steps; i++)
    {
        using var scope = NewDisposeScope();
        watch.Restart();
        optimizer.step();
        if (i >= warmup)
        {
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
    }

    return (Median(times), 0.0);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    int n = sorted.Count;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
}
