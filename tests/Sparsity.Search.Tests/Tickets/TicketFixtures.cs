using Sparsity.Data;
using Sparsity.Search.Tickets;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests.Tickets;

/// <summary>Tiny models, data and trainers for the iterative-pruning tests.</summary>
internal static class TicketFixtures
{
    /// <summary>8 → 16 → 12 → 3 MLP named fc1, fc2, fc3 (fc3 = output layer), weights from a private seed.</summary>
    public static nn.Module<Tensor, Tensor> Mlp(long seed = 0)
    {
        var model = nn.Sequential(
            ("fc1", nn.Linear(8, 16)),
            ("relu1", nn.ReLU()),
            ("fc2", nn.Linear(16, 12)),
            ("relu2", nn.ReLU()),
            ("fc3", nn.Linear(12, 3)));
        using var g = new Generator((ulong)seed + 1);
        using var noGrad = no_grad();
        foreach (var (_, p) in model.named_parameters())
        {
            using var r = rand(p.shape, generator: g);
            p.copy_(r.mul(2).sub(1).mul(0.5));
        }

        return model;
    }

    /// <summary>A labelled 3-class problem from a fixed linear teacher (deterministic).</summary>
    public static TensorDataset Data(int count, long seed)
    {
        using var g = new Generator((ulong)seed + 100);
        using var x = randn(count, 8, generator: g);
        using var teacher = randn(8, 3, generator: g);
        using var logits = x.matmul(teacher);
        using var y = logits.argmax(1);
        return new TensorDataset(x, y, 3);
    }

    /// <summary>Clones of every state-dict tensor.</summary>
    public static Dictionary<string, Tensor> State(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());

    /// <summary>Whether two states are bit-for-bit equal.</summary>
    public static bool SameState(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var t) && Same(kv.Value, t));

    /// <summary>Bit-for-bit equality of two tensors (shape and values).</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype)
        {
            return false;
        }

        using var eq = a.eq(b).all();
        return eq.item<bool>();
    }

    public static string TempFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "sparsity-imp-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>Synchronous progress (System.Progress posts to a context and may run late).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>
/// Wraps a trainer and records every request: the model state and masks when it starts, the state when it
/// ends (masks still bound), the result, and optionally the dense run's state after a given step.
/// </summary>
internal sealed class RecordingTrainer(ILevelTrainer inner, long captureDenseStep = -1) : ILevelTrainer
{
    public int Epochs => inner.Epochs;

    public long StepsPerEpoch => inner.StepsPerEpoch;

    public bool CanStartMidEpoch => inner.CanStartMidEpoch;

    public List<LevelTrainingRequest> Requests { get; } = [];

    public List<Dictionary<string, Tensor>> Starts { get; } = [];

    public List<Dictionary<string, Tensor>> Ends { get; } = [];

    public List<MaskSet?> Masks { get; } = [];

    public List<LevelTrainingResult> Results { get; } = [];

    public Dictionary<string, Tensor>? DenseAtStep { get; private set; }

    public LevelTrainingResult Train(LevelTrainingRequest request, CancellationToken cancellationToken = default)
    {
        Requests.Add(request);
        Starts.Add(TicketFixtures.State(request.Model));
        Masks.Add(request.Masks?.Snapshot());
        if (request.Masks is null && captureDenseStep > 0)
        {
            var after = request.AfterStep;
            request = request with
            {
                AfterStep = s =>
                {
                    if (s == captureDenseStep)
                    {
                        DenseAtStep = TicketFixtures.State(request.Model);
                    }

                    after?.Invoke(s);
                },
            };
        }

        var result = inner.Train(request, cancellationToken);
        Ends.Add(TicketFixtures.State(request.Model));
        Results.Add(result);
        return result;
    }
}

/// <summary>The library's trainer on the tiny data, through the adapter.</summary>
internal static class RealTrainer
{
    public static TrainingOptions Recipe(int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = 16,
        LearningRate = 0.1,
        Momentum = 0.9,
        WeightDecay = 5e-4,
        Schedule = LearningRateSchedule.Cosine,
        Seed = 3,
    };

    public static TrainerLevelTrainer Create(TensorDataset train, TensorDataset test, TrainingOptions options) => new(train, test, options);
}

/// <summary>
/// A trainer that changes no weight and returns scripted accuracies, one per call (then repeats the last):
/// the injected evaluation of the ladder tests.
/// </summary>
internal sealed class ScriptedTrainer(int epochs, long stepsPerEpoch, params double[] accuracies) : ILevelTrainer
{
    private int _calls;

    public int Epochs => epochs;

    public long StepsPerEpoch => stepsPerEpoch;

    public bool CanStartMidEpoch { get; init; }

    public List<LevelTrainingRequest> Requests { get; } = [];

    /// <summary>Mask snapshots of every masked request (null for the dense run).</summary>
    public List<MaskSet?> Masks { get; } = [];

    public Action<LevelTrainingRequest>? OnTrain { get; set; }

    public LevelTrainingResult Train(LevelTrainingRequest request, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Requests.Add(request);
        Masks.Add(request.Masks?.Snapshot());
        OnTrain?.Invoke(request);
        for (long s = 1; s <= request.StepCount; s++)
        {
            request.AfterStep?.Invoke(request.StartStep + s);
        }

        double acc = accuracies.Length == 0 ? 0.5 : accuracies[Math.Min(_calls, accuracies.Length - 1)];
        _calls++;
        int count = (int)((request.StepCount + stepsPerEpoch - 1) / stepsPerEpoch);
        var list = Enumerable.Range(1, count).Select(e => new EpochResult(e, acc, 0.0)).ToList();
        list.ForEach(e => request.AfterEpoch?.Invoke(e));
        return new LevelTrainingResult(list, 0.0);
    }
}
