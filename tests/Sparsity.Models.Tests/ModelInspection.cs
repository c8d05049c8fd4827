using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Models.Tests;

/// <summary>Helpers that read a module the way PyTorch would.</summary>
internal static class ModelInspection
{
    public static long ParameterCount(nn.Module model) => model.parameters().Sum(p => p.numel());

    /// <summary>
    /// State-dict keys in PyTorch's order (torch.nn.Module.state_dict): a module's own parameters, then its own
    /// buffers, then each child in registration order.
    /// </summary>
    public static IEnumerable<(string Key, string Kind)> TorchOrderKeys(nn.Module module, string prefix = "")
    {
        foreach (var (name, _) in module.named_parameters(recurse: false))
            yield return (prefix + name, "parameter");
        foreach (var (name, _) in module.named_buffers(recurse: false))
            yield return (prefix + name, "buffer");
        foreach (var (name, child) in module.named_children())
            foreach (var entry in TorchOrderKeys(child, prefix + name + "."))
                yield return entry;
    }

    public static IReadOnlyList<(string Key, string Kind)> ReadFixture(string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "models", fileName);
        return File.ReadAllLines(path)
            .Where(line => line.Length > 0)
            .Select(line => line.Split(' '))
            .Select(parts => (parts[0], parts[1]))
            .ToList();
    }
}
