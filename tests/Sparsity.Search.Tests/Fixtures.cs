using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

/// <summary>Tiny models, synthetic data and a global magnitude initial mask for the search tests.</summary>
internal static class Fixtures
{
    /// <summary>MLP 20 → 64 → 32 → 4 (fc3 is the classifier).</summary>
    public static nn.Module<Tensor, Tensor> Mlp(long seed)
    {
        random.manual_seed(seed);
        return nn.Sequential(
            ("fc1", nn.Linear(20, 64)), ("act1", nn.ReLU()),
            ("fc2", nn.Linear(64, 32)), ("act2", nn.ReLU()),
            ("fc3", nn.Linear(32, 4)));
    }

    /// <summary>Conv net with BatchNorm on 1×6×6 inputs: conv(1→4,3) BN ReLU flatten fc1(64→16) ReLU fc2(16→4).</summary>
    public static nn.Module<Tensor, Tensor> ConvBn(long seed)
    {
        random.manual_seed(seed);
        return nn.Sequential(
            ("conv", nn.Conv2d(1, 4, 3)), ("bn", nn.BatchNorm2d(4)), ("relu", nn.ReLU()),
            ("flat", nn.Flatten()),
            ("fc1", nn.Linear(64, 16)), ("act", nn.ReLU()),
            ("fc2", nn.Linear(16, 4)));
    }

    /// <summary>Teacher task: x ~ N(0, 1), label = argmax(x·A) for a fixed random A (private generator).</summary>
    public static TensorDataset Teacher(long count, long seed, long[] exampleShape, int classes = 4)
    {
        var g = new Generator(1234); // the teacher is the same for every seed
        long features = exampleShape.Aggregate(1L, (a, b) => a * b);
        using var a = randn(features, classes, generator: g);
        var gx = new Generator((ulong)seed);
        using var x = randn([count, .. exampleShape], generator: gx);
        using var y = x.reshape(count, features).matmul(a).argmax(1);
        return new TensorDataset(x, y, classes);
    }

    /// <summary>Dense SGD training (the "pre-trained" model).</summary>
    public static void Pretrain(nn.Module<Tensor, Tensor> model, IDataset data, int epochs, double lr = 0.1)
    {
        var optimizer = optim.SGD(model.parameters(), lr, momentum: 0.9);
        model.train();
        for (int e = 0; e < epochs; e++)
        {
            foreach (var batch in data.Batches(64, CPU, shuffleSeed: e))
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(batch.Inputs), batch.Labels);
                loss.backward();
                optimizer.step();
            }
        }

        model.eval();
    }

    /// <summary>Searched parameters: every Linear/Conv weight except the classifier.</summary>
    public static IReadOnlyList<PrunableParameter> Parameters(nn.Module model) =>
        new ParameterSelector(new ParameterSelectorOptions { KeepLastLayerDense = true }).Select(model);

    /// <summary>Global magnitude initial mask (LJ budget) over <see cref="Parameters"/>.</summary>
    public static InitialMask Magnitude(nn.Module model, double sparsity)
    {
        var parameters = Parameters(model);
        var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
        return new InitialMask(scores, new GlobalAllocation().Allocate(scores, sparsity));
    }

    /// <summary>A bit-exact copy of a model's state (parameters and buffers).</summary>
    public static Dictionary<string, Tensor> State(nn.Module model) =>
        model.state_dict().ToDictionary(e => e.Key, e => e.Value.detach().clone());

    /// <summary>Whether two tensors are bit-identical in shape and value.</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype)
        {
            return false;
        }

        using var eq = a.eq(b).all();
        return eq.item<bool>();
    }

    /// <summary>Copies <paramref name="state"/> into <paramref name="model"/>.</summary>
    public static void Load(nn.Module model, Dictionary<string, Tensor> state)
    {
        using var noGrad = no_grad();
        foreach (var (k, v) in model.state_dict())
        {
            v.copy_(state[k]);
        }
    }

    /// <summary>A temporary folder.</summary>
    public static string TempFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "sparsity-search-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
