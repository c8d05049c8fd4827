using System.Globalization;
using System.Text.Json.Nodes;
using Sparsity.Analysis;
using Sparsity.Deployment.Files;
using Sparsity.Deployment.Inference;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Samples.Jackpot;

/// <summary>
/// What the dense model and each jackpot cost when shipped, next to what they measure: kept parameters and
/// theoretical FLOPs per example (<see cref="ModelCost"/>), bytes on disk (dense safetensors and
/// <see cref="CompressedModelFile"/>), and the median latency of the masked dense model and of the deployed one
/// (<see cref="SparseDeployment.CompileMlp"/> for a Linear chain such as LeNet-300-100, <see cref="SparseDeployment.Convert"/>
/// otherwise), at batch 1 and 128 on the CPU with the job's thread count.
/// </summary>
internal sealed record DeploymentCost(
    string Model, double Sparsity, long Parameters, long KeptParameters, long Flops, long KeptFlops, long DenseBytes, long FileBytes,
    double MaskedMsBatch1, double MaskedMsBatch128, double DeployedMsBatch1, double DeployedMsBatch128, string Deployment)
{
    private const int Warmup = 10; // enough calls for the JIT and the allocators to settle before timing

    public static IReadOnlyList<DeploymentCost> Measure(JackpotOptions options, nn.Module<Tensor, Tensor> trained, IReadOnlyList<JackpotRun> jackpots)
    {
        long[] example = [1, 28, 28];
        var work = Directory.CreateTempSubdirectory("sparsity-costs-").FullName;
        try
        {
            var rows = new List<DeploymentCost>();
            using (var dense = CpuCopy(options, trained))
            {
                var cost = ModelCost.Measure(dense, [1, .. example]);
                var path = Path.Combine(work, "dense.safetensors"); // a masked model's dense file has the same tensors, so the same size
                StateDict.Save(dense, path);
                long bytes = new FileInfo(path).Length;
                double b1 = ForwardLatency.MedianMs(dense, 1, 200, Warmup), b128 = ForwardLatency.MedianMs(dense, 128, 10, Warmup);
                rows.Add(new DeploymentCost("dense", 0, cost.Parameters, cost.KeptParameters, cost.Flops, cost.KeptFlops, bytes, bytes, b1, b128, b1, b128, "dense"));
            }

            foreach (var run in jackpots)
            {
                using var model = CpuCopy(options, trained);
                using var masks = run.Search.Masks.Clone(CPU);
                var cost = ModelCost.Measure(model, [1, .. example], masks);
                masks.ApplyTo(model);
                var file = CompressedModelFile.Save(model, masks, Path.Combine(work, $"jackpot-{run.Sparsity}.safetensors"));
                double b1 = ForwardLatency.MedianMs(model, 1, 200, Warmup), b128 = ForwardLatency.MedianMs(model, 128, 10, Warmup);
                var (deployed, route) = Deploy(model, masks, example);
                using (deployed)
                {
                    rows.Add(new DeploymentCost("jackpot", run.Sparsity, cost.Parameters, cost.KeptParameters, cost.Flops, cost.KeptFlops,
                        rows[0].DenseBytes, file.FileBytes, b1, b128, ForwardLatency.MedianMs(deployed, 1, 200, Warmup), ForwardLatency.MedianMs(deployed, 128, 10, Warmup), route));
                }
            }

            return rows;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    public static void Print(IReadOnlyList<DeploymentCost> rows, string model) =>
        SampleConsole.Table($"{model}: what shipping costs (per example; latency = median ms on the CPU, {get_num_threads()} thread(s), masked dense → deployed)",
            ["model", "kept params", "MFLOPs", "file (kB)", "ms b1", "ms b128", "deployed as"],
            rows.Select(r => (IReadOnlyList<string>)[
                r.Model == "dense" ? "dense" : $"jackpot {JackpotJob.Format(r.Sparsity)}",
                $"{r.KeptParameters:N0} / {r.Parameters:N0}",
                $"{r.KeptFlops / 1e6:F2} / {r.Flops / 1e6:F2}",
                $"{r.FileBytes / 1e3:F0} / {r.DenseBytes / 1e3:F0}",
                $"{F(r.MaskedMsBatch1)} → {F(r.DeployedMsBatch1)}",
                $"{F(r.MaskedMsBatch128)} → {F(r.DeployedMsBatch128)}",
                r.Deployment]).ToList());

    public static JsonArray Json(IReadOnlyList<DeploymentCost> rows) => new(rows.Select(r => (JsonNode)new JsonObject
    {
        ["model"] = r.Model,
        ["sparsity"] = r.Sparsity,
        ["parameters"] = r.Parameters,
        ["kept_parameters"] = r.KeptParameters,
        ["flops"] = r.Flops,
        ["kept_flops"] = r.KeptFlops,
        ["dense_bytes"] = r.DenseBytes,
        ["file_bytes"] = r.FileBytes,
        ["masked_ms_b1"] = r.MaskedMsBatch1,
        ["masked_ms_b128"] = r.MaskedMsBatch128,
        ["deployed_ms_b1"] = r.DeployedMsBatch1,
        ["deployed_ms_b128"] = r.DeployedMsBatch128,
        ["deployed_as"] = r.Deployment,
        ["threads"] = get_num_threads(),
    }).ToArray());

    private static nn.Module<Tensor, Tensor> CpuCopy(JackpotOptions options, nn.Module<Tensor, Tensor> trained)
    {
        var copy = options.CreateModel();
        using (no_grad())
        {
            var target = copy.state_dict();
            foreach (var (key, value) in trained.state_dict())
            {
                target[key].copy_(value.cpu());
            }
        }

        copy.eval();
        return copy;
    }

    /// <summary>CompileMlp when the model is a Linear chain (it says so by refusing otherwise), else Convert.</summary>
    private static (nn.Module<Tensor, Tensor> Model, string Route) Deploy(nn.Module<Tensor, Tensor> model, MaskSet masks, long[] example)
    {
        try
        {
            return (SparseDeployment.CompileMlp(model, masks, example), "CompileMlp");
        }
        catch (ArgumentException)
        {
            var converted = SparseDeployment.Convert(model, masks);
            var sparse = converted.Layers.Count(l => l.Route == LayerRoute.Sparse);
            return (new Converted(converted, (nn.Module<Tensor, Tensor>)converted.Model), $"Convert ({sparse} of {converted.Layers.Count} layers sparse)");
        }
    }

    private static string F(double ms) => ms.ToString(ms < 1 ? "F3" : "F1", CultureInfo.InvariantCulture);

    /// <summary>A converted model as a module whose disposal removes the hooks (the model itself is disposed by its owner).</summary>
    private sealed class Converted(DeployedModel deployed, nn.Module<Tensor, Tensor> model) : nn.Module<Tensor, Tensor>("Converted")
    {
        public override Tensor forward(Tensor input) => model.call(input);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                deployed.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
