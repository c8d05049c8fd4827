using System.Diagnostics;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Samples.Jackpot;

/// <summary>One criterion's mask at one sparsity, evaluated without retraining.</summary>
/// <param name="Criterion">Criterion name.</param>
/// <param name="Sparsity">Target sparsity.</param>
/// <param name="Mask">The mask (owned by the caller).</param>
/// <param name="TestAccuracy">Top-1 test accuracy (%) of the masked pre-trained model.</param>
/// <param name="Seconds">Scoring time.</param>
/// <param name="TimeRatio">Scoring time divided by one dense forward+backward pass on a batch of 128, timed just before.</param>
internal sealed record CriterionResult(string Criterion, double Sparsity, MaskSet Mask, double TestAccuracy, double Seconds, double TimeRatio);

/// <summary>Scores a pre-trained model with each criterion, allocates globally and evaluates each mask.</summary>
internal sealed class CriterionComparison(nn.Module<Tensor, Tensor> model, IReadOnlyList<PrunableParameter> parameters, IReadOnlyList<Batch> batches, Device device)
{
    private readonly List<double> _denseSteps = [];

    /// <summary>Seconds of one dense forward+backward pass on one scoring batch (median over all measurements).</summary>
    public double DenseStepSeconds => _denseSteps.Order().ElementAt(_denseSteps.Count / 2);

    /// <summary>The criterion called <paramref name="name"/>.</summary>
    public static IPruningCriterion Create(string name, long seed) => name switch
    {
        "magnitude" => new MagnitudeCriterion(),
        "snip" => new SnipCriterion(),
        "grasp" => new GraspCriterion(),
        "synflow" => new SynFlowCriterion(),
        "random" => new RandomCriterion(seed),
        _ => throw new ArgumentException($"Unknown criterion '{name}'.", nameof(name)),
    };

    /// <summary>Scores with <paramref name="criterion"/>, keeps the top weights globally at <paramref name="sparsity"/> and evaluates.</summary>
    public CriterionResult Run(IPruningCriterion criterion, double sparsity, IDataset test, CancellationToken cancellationToken)
    {
        // The dense step is timed right before each criterion, so that both see the same machine load.
        var denseStep = MeasureDenseStep(model, batches[0]);
        _denseSteps.Add(denseStep);
        var allocation = new GlobalAllocation();
        var clock = Stopwatch.StartNew();
        using var scores = criterion.Score(model, parameters, batches, new ScoringOptions { TargetSparsity = sparsity, Allocation = allocation }, cancellationToken);
        var mask = allocation.Allocate(scores, sparsity);
        var seconds = clock.Elapsed.TotalSeconds;
        double accuracy;
        using (MaskedModel.Attach(model, mask, parameters))
        {
            accuracy = Evaluator.Evaluate(model, test, device: device, cancellationToken: cancellationToken).Accuracy;
        }

        return new CriterionResult(criterion.Name, sparsity, mask, accuracy, seconds, seconds / denseStep);
    }

    private static double MeasureDenseStep(nn.Module<Tensor, Tensor> model, Batch batch)
    {
        var wasTraining = model.training;
        model.eval();
        var times = new List<double>();
        for (int i = 0; i < 6; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var loss = nn.functional.cross_entropy(model.forward(batch.Inputs), batch.Labels);
            loss.backward();
            _ = loss.item<float>();
            if (i > 0) times.Add(clock.Elapsed.TotalSeconds); // the first pass warms up
        }

        model.zero_grad(set_to_none: true);
        model.train(wasTraining);
        times.Sort();
        return times[times.Count / 2];
    }
}
