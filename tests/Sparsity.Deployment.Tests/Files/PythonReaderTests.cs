using System.Diagnostics;
using Sparsity.Deployment.Files;
using Sparsity.IO;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Tests.Files;

/// <summary>
/// samples/python/read_compressed.py (numpy + torch, Debian's python3-torch) rebuilds the state dict bit for bit.
/// Skipped where /usr/bin/python3 cannot import torch.
/// </summary>
public sealed class PythonReaderTests
{
    private const string Python = "/usr/bin/python3";

    [Theory]
    [InlineData(WeightEncoding.Bitmask)]
    [InlineData(WeightEncoding.Csr)]
    public void Python_reader_rebuilds_the_masked_state_dict(WeightEncoding encoding)
    {
        if (!File.Exists(Python) || Run("-c \"import torch, numpy\"").Code != 0)
        {
            Assert.Skip("/usr/bin/python3 with torch and numpy is not installed (apt-get install python3-torch).");
        }

        using var model = TestModels.LeNet300(6);
        using var masks = TestModels.Magnitude(model, 0.95);
        masks.ApplyTo(model);
        using (no_grad())
        {
            foreach (var name in masks.Names)
            {
                model.state_dict()[name].add_(0.0f); // the file stores pruned weights as +0.0
            }
        }

        var compressed = TestModels.TempPath("py.safetensors");
        var dense = TestModels.TempPath("py-dense.safetensors");
        CompressedModelFile.Save(model, masks, compressed, encoding);
        StateDict.Save(model, dense);
        var script = Path.Combine(RepoRoot(), "samples", "python", "read_compressed.py");
        var (code, output) = Run($"\"{script}\" \"{compressed}\" --compare \"{dense}\"");
        code.Should().Be(0, output);
        output.Should().Contain("match: 6 tensors bit-identical");
        output.Should().Contain("fc1.weight");
    }

    private static (int Code, string Output) Run(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(Python, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sparsity.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Sparsity.sln not found above " + AppContext.BaseDirectory);
    }
}
