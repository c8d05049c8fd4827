using Sparsity.Criteria;
using Sparsity.Models;
using static TorchSharp.torch;

namespace Sparsity.Deployment.Tests;

/// <summary>Models and magnitude masks for the tests (masks from |w| on a randomly initialised model).</summary>
internal static class TestModels
{
    public static nn.Module<Tensor, Tensor> LeNet300(long seed)
    {
        manual_seed(seed);
        return new LeNet300100(1, 10);
    }

    public static nn.Module<Tensor, Tensor> ResNet20(long seed)
    {
        manual_seed(seed);
        return ReferenceModels.Create("resnet20", 1, 10);
    }

    /// <summary>Layer-wise magnitude: each selected layer keeps its top (1 − sparsity) of |w|.</summary>
    public static MaskSet Magnitude(nn.Module model, double sparsity, bool keepLastDense = true)
    {
        var parameters = new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = keepLastDense }).Select(model);
        // Layer-wise magnitude: every masked layer keeps its own top (1 − sparsity) of |w|.
        using var scores = new MagnitudeCriterion().Score(model, parameters, []);
        var masks = new LayerWiseAllocation().Allocate(scores, sparsity);
        return masks;
    }

    /// <summary>A random mask of the given density for every entry of <paramref name="names"/>.</summary>
    public static MaskSet Random(nn.Module model, double density, long seed, params string[] names)
    {
        var state = model.state_dict();
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        return new MaskSet(names.Select(n => KeyValuePair.Create(n, rand(state[n].shape, generator: generator).lt(density))).ToList());
    }

    /// <summary>A file path in this test run's own temporary folder, which is deleted when the run ends.</summary>
    public static string TempPath(string name) => Path.Combine(RunFolder.Value, $"{Guid.NewGuid():N}-{name}");

    private static readonly Lazy<string> RunFolder = new(() =>
    {
        var folder = Directory.CreateTempSubdirectory("sparsity-deployment-tests-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a file still open elsewhere stays behind in the system's temporary folder.
            }
        };
        return folder;
    });

    /// <summary>
    /// Copies every state-dict tensor of <paramref name="source"/> into <paramref name="target"/> (tests run in
    /// parallel and share libtorch's global generator, so two models built with the same seed may differ).
    /// </summary>
    public static void CopyState(nn.Module source, nn.Module target)
    {
        using var noGrad = no_grad();
        var t = target.state_dict();
        foreach (var (k, v) in source.state_dict())
        {
            t[k].copy_(v);
        }
    }

    /// <summary>Whether two state dicts hold the same keys and bit-identical tensors.</summary>
    public static bool SameState(nn.Module a, nn.Module b)
    {
        var sa = a.state_dict();
        var sb = b.state_dict();
        return sa.Count == sb.Count && sa.All(kv => sb.TryGetValue(kv.Key, out var t) && kv.Value.shape.SequenceEqual(t.shape)
            && kv.Value.cpu().bytes.SequenceEqual(t.cpu().bytes));
    }
}
