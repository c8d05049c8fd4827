using Sparsity.Data;
using Sparsity.Search.Tickets;
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
/// A real mini-batch SGD trainer (momentum, Nesterov, weight decay, multi-step learning rate by step) used as
/// the test stand-in for the library trainer. Deterministic: the data order of schedule epoch e is drawn from seed e.
/// </summary>
internal sealed class SgdLevelTrainer(
    TensorDataset train,
    TensorDataset test,
    int epochs,
    int batchSize,
    double learningRate = 0.1,
    double momentum = 0.9,
    bool nesterov = false,
    double weightDecay = 0.0,
    long milestone = long.MaxValue) : ILevelTrainer
{
    public int Epochs => epochs;

    public long StepsPerEpoch => (train.Count + batchSize - 1) / batchSize;

    public bool CanStartMidEpoch => true;

    /// <summary>Every request seen, in order.</summary>
    public List<LevelTrainingRequest> Requests { get; } = [];

    /// <summary>Learning rate used at every step, per request.</summary>
    public List<List<double>> LearningRates { get; } = [];

    /// <summary>Called inside <see cref="Train"/> after the last step, while the masks are still bound.</summary>
    public Action<LevelTrainingRequest>? AfterTraining { get; set; }

    /// <summary>Called at the start of <see cref="Train"/>, before any step.</summary>
    public Action<LevelTrainingRequest>? BeforeTraining { get; set; }

    public double Schedule(long step) => step >= milestone ? learningRate * 0.1 : learningRate;

    public LevelTrainingResult Train(LevelTrainingRequest request, CancellationToken cancellationToken = default)
    {
        Requests.Add(request);
        BeforeTraining?.Invoke(request);
        var rates = new List<double>();
        LearningRates.Add(rates);
        var model = (nn.Module<Tensor, Tensor>)request.Model;
        var device = model.parameters().First().device;
        using var optimizer = optim.SGD(model.parameters(), learningRate, momentum, 0.0, weightDecay, nesterov);
        var epochsDone = new List<EpochResult>();
        long step = request.StartStep;
        long done = 0;
        model.train();
        while (done < request.StepCount)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long epoch = step / StepsPerEpoch;
            long offset = step % StepsPerEpoch;
            foreach (var batch in train.Batches(batchSize, device, shuffleSeed: epoch).Skip((int)offset))
            {
                using var scope = NewDisposeScope();
                double lr = Schedule(request.HoldLearningRate ? request.StartStep : step);
                foreach (var g in optimizer.ParamGroups)
                {
                    g.LearningRate = lr;
                }

                rates.Add(lr);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(batch.Inputs), batch.Labels);
                loss.backward();
                request.Masks?.MaskGradients();
                optimizer.step();
                request.Masks?.Reapply();
                step++;
                done++;
                request.AfterStep?.Invoke(step);
                if (done == request.StepCount || step % StepsPerEpoch == 0)
                {
                    break;
                }
            }

            var result = new EpochResult((int)((step - 1) / StepsPerEpoch) + 1, Accuracy(model), 0.0);
            epochsDone.Add(result);
            request.AfterEpoch?.Invoke(result);
        }

        AfterTraining?.Invoke(request);
        return new LevelTrainingResult(epochsDone, 0.0);
    }

    public double Accuracy(nn.Module<Tensor, Tensor> model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var device = model.parameters().First().device;
        var correct = model.call(test.Inputs.to(device)).argmax(1).eq(test.Labels.to(device)).sum().item<long>();
        model.train();
        return 100.0 * correct / test.Count;
    }
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

    public bool CanStartMidEpoch => false;

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
