using Sparsity.Data;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Tests.Training;

/// <summary>Small data and models for training tests.</summary>
internal static class TrainingFixtures
{
    private static readonly Lazy<(TensorDataset Train, TensorDataset Test)> Embedded = new(() =>
    {
        using var data = EmbeddedFashionMnist.Load();
        return (data.Train.Subset(512), data.Test.Subset(200));
    });

    /// <summary>512 training examples of the embedded subset (shared; do not dispose).</summary>
    public static TensorDataset Train => Embedded.Value.Train;

    /// <summary>200 test examples of the embedded subset (shared; do not dispose).</summary>
    public static TensorDataset Test => Embedded.Value.Test;

    /// <summary>A small MLP with BatchNorm (so buffers must round-trip through checkpoints), seeded.</summary>
    public static nn.Module<Tensor, Tensor> Mlp(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("flat", nn.Flatten()),
            ("fc1", nn.Linear(784, 32)),
            ("bn", nn.BatchNorm1d(32)),
            ("relu", nn.ReLU()),
            ("drop", nn.Dropout(0.1)),
            ("fc2", nn.Linear(32, 10)));
    }

    /// <summary>Options for fast tests.</summary>
    public static TrainingOptions Fast(int epochs = 3, string? folder = null) => new()
    {
        Epochs = epochs,
        BatchSize = 64,
        LearningRate = 0.05,
        Seed = 7,
        CheckpointFolder = folder,
    };

    /// <summary>Clones of every state-dict entry.</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());

    /// <summary>Whether two snapshots are identical bit for bit.</summary>
    public static bool Identical(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var other) && kv.Value.dtype == other.dtype && TestModels.Same(kv.Value, other));
}

/// <summary>Synchronous progress sink (Progress&lt;T&gt; posts asynchronously).</summary>
internal sealed class SyncProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}
