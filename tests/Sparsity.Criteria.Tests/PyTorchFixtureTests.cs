using System.Text.Json;
using Sparsity.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sparsity.Criteria.Tests;

/// <summary>
/// Scores against reference values computed with PyTorch 1.13 following each criterion's official code
/// (tests/fixtures/criteria/make_fixtures.py), matched to 1e-5 relative.
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class PyTorchFixtureTests : IDisposable
{
    private static readonly string[] Names = ["conv.weight", "fc.weight"];
    private readonly JsonElement _root;
    private readonly Sequential _model;
    private readonly List<Batch> _batches = [];

    public PyTorchFixtureTests()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fixtures", "criteria", "reference_scores.json");
        _root = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        _model = nn.Sequential(
            ("conv", nn.Conv2d(1, 3, 3, dtype: ScalarType.Float64)),
            ("bn", nn.BatchNorm2d(3, dtype: ScalarType.Float64)),
            ("relu", nn.ReLU()),
            ("flat", nn.Flatten()),
            ("fc", nn.Linear(48, 4, dtype: ScalarType.Float64)));
        var state = _model.state_dict();
        using (no_grad())
        {
            foreach (var entry in _root.GetProperty("state").EnumerateObject())
            {
                using var value = Read(entry.Value);
                state[entry.Name].copy_(value.to_type(state[entry.Name].dtype));
            }
        }

        foreach (var b in _root.GetProperty("batches").EnumerateArray())
        {
            var labels = b.GetProperty("labels").EnumerateArray().Select(l => l.GetInt64()).ToArray();
            _batches.Add(new Batch(Read(b.GetProperty("inputs")), tensor(labels)));
        }
    }

    private static Tensor Read(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(d => d.GetDouble()).ToArray();
        return tensor(data).reshape(shape);
    }

    private void ShouldMatch(ScoreSet scores, string key, double sign = 1.0)
    {
        var reference = _root.GetProperty("scores").GetProperty(key);
        foreach (var name in Names)
        {
            using var expected = Read(reference.GetProperty(name)) * sign;
            using var actual = scores[name].to_type(ScalarType.Float64);
            var atol = expected.abs().max().item<double>() * 1e-9;
            actual.allclose(expected, rtol: 1e-5, atol: atol).Should().BeTrue($"{key} {name}: max |diff| {(actual - expected).abs().max().item<double>()}");
        }
    }

    [Fact]
    public void Magnitude()
    {
        using var s = new MagnitudeCriterion().Score(_model, TestModels.Select(_model), _batches, cancellationToken: Test.Ct);
        ShouldMatch(s, "magnitude");
    }

    [Fact]
    public void SnipLikeSynapticFlow()
    {
        using var s = new SnipCriterion().Score(_model, TestModels.Select(_model), _batches, cancellationToken: Test.Ct);
        ShouldMatch(s, "snip");
    }

    [Fact]
    public void GraspIsTheNegatedOfficialScore()
    {
        var t = _root.GetProperty("grasp_temperature").GetDouble();
        using var snapshot = new ModelSnapshot(_model);
        using var s = new GraspCriterion(new GraspOptions { Temperature = t }).Score(_model, TestModels.Select(_model), _batches, cancellationToken: Test.Ct);
        ShouldMatch(s, "grasp_official", sign: -1.0);
        snapshot.AssertUnchanged(_model);
    }

    [Fact]
    public void SynFlowIterativeLikeSynapticFlow()
    {
        var sf = _root.GetProperty("synflow");
        var options = new SynFlowOptions { Schedule = new() { Rounds = sf.GetProperty("rounds").GetInt32() } };
        var scoring = new ScoringOptions
        {
            TargetSparsity = 1.0 - sf.GetProperty("density").GetDouble(),
            // Synaptic-Flow's prune_loop prunes k = int((1 − density) · n) per round: the floor-pruned rule.
            Allocation = new GlobalAllocation(allowEmptyLayers: true, rounding: KeptCountRounding.FloorPruned),
        };
        using var snapshot = new ModelSnapshot(_model);
        using var s = new SynFlowCriterion(options).Score(_model, TestModels.Select(_model), _batches, scoring, Test.Ct);
        ShouldMatch(s, "synflow");
        snapshot.AssertUnchanged(_model);
    }

    public void Dispose()
    {
        _batches.ForEach(b => b.Dispose());
        _model.Dispose();
    }
}
