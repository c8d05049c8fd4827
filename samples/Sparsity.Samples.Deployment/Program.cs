using Sparsity.Criteria;
// Compressed files and sparse inference for pruned models.
//
//   dotnet run -c Release --project samples/Sparsity.Samples.Deployment -- --smoke
//       LeNet-300-100 at 98 %: compressed round trip, CompileMlp, outputs checked against the masked dense model,
//       a rough Stopwatch timing (not a benchmark). Under a minute; CI runs it.
//   dotnet run -c Release --project samples/Sparsity.Samples.Deployment -- \
//       --inference-csv benchmarks/results/Sparsity.Benchmarks.SparseInferenceBenchmarks-report.csv \
//       --nm-json benchmarks/results/sparse-deployment-nm.json --out benchmarks/results/sparse-deployment.json
//       File sizes (LeNet-300-100 at 90 % and 98 %, ResNet-20 at 90 %), costs (ModelCost), and the inference rows
//       taken from the BenchmarkDotNet report, and the N:M rows of the NM sample, written as the results file.
//
// Masks are layer-wise magnitude masks on randomly initialised models (seed 0): file size and speed do not depend on
// accuracy, only on how many weights are kept and where.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sparsity;
using Sparsity.Analysis;
using Sparsity.Deployment.Files;
using Sparsity.Deployment.Inference;
using Sparsity.IO;
using Sparsity.Models;
using static TorchSharp.torch;

set_num_threads(1);
string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
var work = Path.Combine(Path.GetTempPath(), $"sparsity-deployment-{Environment.ProcessId}");
Directory.CreateDirectory(work);
try
{
    if (args.Contains("--smoke"))
    {
        return Smoke(work);
    }

    var csv = Arg("--inference-csv");
    var outPath = Arg("--out") ?? "sparse-deployment.json";
    var files = new JsonArray();
    foreach (var (name, sparsity) in new[] { ("lenet300", 0.9), ("lenet300", 0.98), ("resnet20", 0.9) })
    {
        files.Add(FileRow(name, sparsity, work));
    }

    var inference = csv is null ? new JsonArray() : InferenceRows(csv);
    var nmPath = Arg("--nm-json");
    var nm = nmPath is null ? null : JsonNode.Parse(File.ReadAllText(nmPath))!.AsObject();
    var root = new JsonObject
    {
        ["_about"] = "Written by: dotnet run -c Release --project samples/Sparsity.Samples.Deployment -- " +
            $"{(csv is null ? "" : $"--inference-csv {csv} ")}{(nmPath is null ? "" : $"--nm-json {nmPath} ")}--out {outPath}. Masks: layer-wise magnitude (each masked layer at the given sparsity) " +
            "on randomly initialised models (seed 0; LeNet-300-100: fc1, fc2, fc3 dense; ResNet-20: every Conv and the fc). " +
            "files: dense_bytes = StateDict.Save (fp32 safetensors), compressed_bytes = CompressedModelFile.Save (Auto encoding). " +
            "inference: BenchmarkDotNet means from the CSV named above (1 thread, dense and sparse in the same run); " +
            "sparse = the deployed model: SparseDeployment.CompileMlp (one fused managed pass at batch <= 2, the converted model above), " +
            "converted = SparseDeployment.Convert alone (per-layer managed CSR kernels through hooks), coo = libtorch to_sparse + mm. FLOPs from ModelCost." +
            (nmPath is null ? "" : $" nm and nm_dense: copied from {nmPath} (written by samples/Sparsity.Samples.NM; commands, settings and per-run details there)."),
        ["files"] = files,
        ["inference"] = inference,
        ["nm"] = nm?["nm"]?.DeepClone() ?? new JsonArray(),
    };
    if (nm?["dense"] is { } nmDense)
    {
        root["nm_dense"] = nmDense.DeepClone();
    }

    File.WriteAllText(outPath, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    Console.WriteLine($"wrote {outPath}: {files.Count} file rows, {inference.Count} inference rows");
    return 0;
}
finally
{
    Directory.Delete(work, recursive: true);
}

static (nn.Module<Tensor, Tensor> Model, MaskSet Masks) Masked(string name, double sparsity)
{
    manual_seed(0);
    var model = ReferenceModels.Create(name, 1, 10);
    model.eval();
    var parameters = new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = name == "lenet300" }).Select(model);
    // Layer-wise magnitude: every masked layer keeps its own top (1 − sparsity) of |w|.
    using var scores = new MagnitudeCriterion().Score(model, parameters, []);
    var masks = new LayerWiseAllocation().Allocate(scores, sparsity);
    masks.ApplyTo(model);
    return (model, masks);
}

static JsonObject FileRow(string name, double sparsity, string work)
{
    var (model, masks) = Masked(name, sparsity);
    using (model)
    using (masks)
    {
        var dense = Path.Combine(work, $"{name}-dense.safetensors");
        StateDict.Save(model, dense);
        var auto = CompressedModelFile.Save(model, masks, Path.Combine(work, $"{name}-auto.safetensors"));
        var bitmask = CompressedModelFile.Save(model, masks, Path.Combine(work, $"{name}-bitmask.safetensors"), WeightEncoding.Bitmask);
        var csr = CompressedModelFile.Save(model, masks, Path.Combine(work, $"{name}-csr.safetensors"), WeightEncoding.Csr);
        var cost = ModelCost.Measure(model, [1, 1, 28, 28], masks);
        long denseBytes = new FileInfo(dense).Length;
        Console.WriteLine($"{name} {sparsity:P0}: dense {denseBytes:N0} B, compressed {auto.FileBytes:N0} B (1/{(double)denseBytes / auto.FileBytes:F1}); bitmask {bitmask.FileBytes:N0}, CSR {csr.FileBytes:N0}");
        return new JsonObject
        {
            ["model"] = name,
            ["sparsity"] = sparsity,
            ["dense_bytes"] = denseBytes,
            ["compressed_bytes"] = auto.FileBytes,
            ["bitmask_bytes"] = bitmask.FileBytes,
            ["csr_bytes"] = csr.FileBytes,
            ["encodings"] = string.Join(", ", auto.Tensors.Select(t => $"{t.Name}={t.Encoding}")),
            ["parameters"] = cost.Parameters,
            ["kept_parameters"] = cost.KeptParameters,
            ["flops_per_example"] = cost.Flops,
            ["kept_flops_per_example"] = cost.KeptFlops,
        };
    }
}

static JsonArray InferenceRows(string csvPath)
{
    var lines = File.ReadAllLines(csvPath);
    var header = SplitCsv(lines[0]);
    int Col(string n) => Array.IndexOf(header, n) is var i and >= 0 ? i : throw new InvalidDataException($"{csvPath} has no column '{n}'.");
    var rows = lines.Skip(1).Select(SplitCsv).Select(f => (Method: f[Col("Method")], Sparsity: double.Parse(f[Col("Sparsity")], CultureInfo.InvariantCulture),
        Batch: int.Parse(f[Col("Batch")], CultureInfo.InvariantCulture), Ms: Milliseconds(f[Col("Mean")]))).ToList();
    var result = new JsonArray();
    foreach (var group in rows.GroupBy(r => (r.Sparsity, r.Batch)).OrderBy(g => g.Key.Sparsity).ThenBy(g => g.Key.Batch))
    {
        double Ms(string m) => group.Single(r => r.Method == m).Ms;
        var (model, masks) = Masked("lenet300", group.Key.Sparsity);
        using (model)
        using (masks)
        {
            var cost = ModelCost.Measure(model, [group.Key.Batch, 1, 28, 28], masks);
            result.Add(new JsonObject
            {
                ["model"] = "lenet300",
                ["sparsity"] = group.Key.Sparsity,
                ["batch"] = group.Key.Batch,
                ["dense_ms"] = Math.Round(Ms("Dense"), 5),
                ["sparse_ms"] = Math.Round(Ms("Compiled"), 5),
                ["converted_ms"] = Math.Round(Ms("Sparse"), 5),
                ["coo_ms"] = Math.Round(Ms("Coo"), 5),
                ["speedup"] = Math.Round(Ms("Dense") / Ms("Compiled"), 2),
                ["flops"] = cost.Flops,
                ["kept_flops"] = cost.KeptFlops,
                ["kept_parameters"] = cost.KeptParameters,
            });
        }
    }

    return result;
}

static double Milliseconds(string value)
{
    var parts = value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    var number = double.Parse(parts[0].Replace(",", ""), CultureInfo.InvariantCulture);
    return parts.Length < 2 ? number / 1e6 : parts[1] switch
    {
        "ns" => number / 1e6,
        "us" or "μs" => number / 1e3,
        "ms" => number,
        "s" => number * 1e3,
        _ => throw new InvalidDataException($"Unknown time unit in '{value}'."),
    };
}

static string[] SplitCsv(string line)
{
    var fields = new List<string>();
    var current = new System.Text.StringBuilder();
    bool quoted = false;
    foreach (var ch in line)
    {
        if (ch == '"') quoted = !quoted;
        else if (ch == ',' && !quoted) { fields.Add(current.ToString()); current.Clear(); }
        else current.Append(ch);
    }

    fields.Add(current.ToString());
    return fields.ToArray();
}

static int Smoke(string work)
{
    var (model, masks) = Masked("lenet300", 0.98);
    using (model)
    using (masks)
    {
        var path = Path.Combine(work, "lenet300-98.safetensors");
        var summary = CompressedModelFile.Save(model, masks, path);
        var densePath = Path.Combine(work, "dense.safetensors");
        StateDict.Save(model, densePath);
        Console.WriteLine($"compressed {summary.FileBytes:N0} B vs dense {new FileInfo(densePath).Length:N0} B");
        using var copy = ReferenceModels.Create("lenet300", 1, 10);
        copy.eval();
        using var loaded = CompressedModelFile.Load(copy, path);
        using var x1 = randn(1, 1, 28, 28);
        using var x128 = randn(128, 1, 28, 28);
        using var noGrad = no_grad();
        using var expected1 = model.call(x1);
        using var expected128 = model.call(x128);
        if (!loaded.Equals(masks) || !allclose(copy.call(x1), expected1))
        {
            Console.Error.WriteLine("round trip changed the model");
            return 1;
        }

        double Time(nn.Module<Tensor, Tensor> m, Tensor x, int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var warm = NewDisposeScope();
                m.call(x);
            }

            var watch = Stopwatch.StartNew();
            for (int i = 0; i < n; i++)
            {
                using var scope = NewDisposeScope();
                m.call(x);
            }

            return watch.Elapsed.TotalMilliseconds / n;
        }

        double dense1 = Time(copy, x1, 200), dense128 = Time(copy, x128, 20);
        using var deployed = SparseDeployment.CompileMlp(copy, loaded, [1, 28, 28]);
        Console.WriteLine(deployed);
        foreach (var layer in deployed.Converted.Layers)
        {
            Console.WriteLine($"{layer.Name}: {layer.Route} ({layer.Reason})");
        }

        if (!allclose(deployed.call(x1), expected1, rtol: 1e-5, atol: 1e-5) || !allclose(deployed.call(x128), expected128, rtol: 1e-5, atol: 1e-5))
        {
            Console.Error.WriteLine("sparse outputs differ from the masked dense model");
            return 1;
        }

        double sparse1 = Time(deployed, x1, 200), sparse128 = Time(deployed, x128, 20);
        Console.WriteLine($"rough timing (Stopwatch, not a benchmark): batch 1 dense {dense1:F3} ms, sparse {sparse1:F3} ms; batch 128 dense {dense128:F3} ms, sparse {sparse128:F3} ms");
        return 0;
    }
}
