using System.Text.Json;
using Sparsity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

/// <summary>
/// <see cref="MaskSearcher"/> step by step against 20 steps of the official Lottery-Jackpots search run in PyTorch 1.13
/// (tests/fixtures/search/make_fixture.py: 1.0/0.99 scores, straight-through gradient, SGD with momentum and coupled
/// weight decay on the scores, <c>final_pop_up</c> after every step) on a tiny MLP with fixed batches.
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class OfficialStepsFixtureTests
{
    private static readonly string[] Searched = ["fc1.weight", "fc2.weight"];

    private static JsonElement Root() => JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "search", "lottery_jackpots_steps.json"))).RootElement;

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static bool[] Bits(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32() != 0).ToArray();

    private static nn.Module<Tensor, Tensor> Model(JsonElement root)
    {
        var model = nn.Sequential(
            ("fc1", nn.Linear(12, 16)), ("act1", nn.ReLU()),
            ("fc2", nn.Linear(16, 10)), ("act2", nn.ReLU()),
            ("fc3", nn.Linear(10, 4)));
        var state = model.state_dict();
        using var noGrad = no_grad();
        foreach (var entry in root.GetProperty("state").EnumerateObject())
        {
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
            using var value = tensor(Doubles(entry.Value.GetProperty("data")).Select(d => (float)d).ToArray()).reshape(shape);
            state[entry.Name].copy_(value);
        }

        return model;
    }

    /// <summary>The fixture's batches, always in stored order (the official loop's fixed batches; no shuffling).</summary>
    private sealed class FixedBatches(JsonElement root) : IDataset
    {
        private readonly List<(float[] Inputs, long[] Labels)> _batches = root.GetProperty("batches").EnumerateArray()
            .Select(b => (Doubles(b.GetProperty("inputs")).Select(d => (float)d).ToArray(),
                          b.GetProperty("labels").EnumerateArray().Select(l => l.GetInt64()).ToArray()))
            .ToList();

        public long Count => _batches.Sum(b => (long)b.Labels.Length);

        public int ClassCount => 4;

        public IReadOnlyList<long> ExampleShape => [12];

        public IEnumerable<Batch> Batches(int batchSize, Device device, long? shuffleSeed = null, bool dropLast = false)
        {
            foreach (var (inputs, labels) in _batches)
            {
                batchSize.Should().Be(labels.Length, "the search runs on the fixture's batches as they are");
                using var batch = new Batch(tensor(inputs).reshape(labels.Length, 12).to(device), tensor(labels).to(device));
                yield return batch;
            }
        }
    }

    /// <summary>The official short restriction, recording which layer refused a proposed change at which step.</summary>
    private sealed class Recording(IRestrictionPolicy inner) : IRestrictionPolicy
    {
        public int Step { get; set; }

        public HashSet<(int Step, string Layer)> Refused { get; } = [];

        public string Name => inner.Name;

        public string Description => inner.Description;

        public long AcceptedPairs(in LayerProposal proposal)
        {
            long accepted = inner.AcceptedPairs(proposal);
            if (accepted == 0 && proposal.Pairs > 0)
            {
                Refused.Add((Step, proposal.Name));
            }

            return accepted;
        }
    }

    private static InitialMask OfficialBudget(nn.Module model, double sparsity, KeptCountRounding rounding)
    {
        var parameters = Fixtures.Parameters(model);
        var scores = new ScoreSet(parameters.Select(p => KeyValuePair.Create(p.Name, p.Weight.detach().abs().clone())).ToList());
        return new InitialMask(scores, new GlobalAllocation(rounding: rounding).Allocate(scores, sparsity));
    }

    [Fact]
    public void InitialMaskIsTheOfficialMagnitudeBudgetUnderTheLotteryJackpotsRounding()
    {
        var root = Root();
        using var model = Model(root);
        double sparsity = root.GetProperty("config").GetProperty("prune_rate").GetDouble();
        using var initial = OfficialBudget(model, sparsity, KeptCountRounding.LotteryJackpots);
        initial.Mask.KeptCount.Should().Be(root.GetProperty("config").GetProperty("kept_total").GetInt64());
        foreach (var name in Searched)
        {
            var expected = Bits(root.GetProperty("initial_mask").GetProperty(name.Split('.')[0]));
            initial.Mask[name].flatten().data<bool>().ToArray().Should().Equal(expected, name);
        }

        // The default (PyTorch) rule keeps one weight more here: 352 − round(246.4) = 106 against int(352 · 0.3) = 105.
        using var pytorch = OfficialBudget(model, sparsity, KeptCountRounding.PyTorch);
        pytorch.Mask.KeptCount.Should().Be(initial.Mask.KeptCount + 1);
    }

    [Fact]
    public void MaskSearcherReproducesTheOfficialSearchStepByStep()
    {
        var root = Root();
        var config = root.GetProperty("config");
        using var model = Model(root);
        using var initial = OfficialBudget(model, config.GetProperty("prune_rate").GetDouble(), KeptCountRounding.LotteryJackpots);
        var policy = new Recording(new ShortRestriction(RestrictionSchedule.Official));
        var options = new MaskSearchOptions
        {
            Epochs = 1, // one epoch of 20 batches: the official rate ceil((1 − 0/E)^4) = 1 and a constant lr within the epoch
            LearningRate = config.GetProperty("lr").GetDouble(),
            Momentum = config.GetProperty("momentum").GetDouble(),
            WeightDecay = config.GetProperty("weight_decay").GetDouble(),
            Schedule = Sparsity.Training.LearningRateSchedule.Constant,
            BatchSize = config.GetProperty("batch").GetInt32(),
            EvaluateEveryEpoch = false,
            Restriction = policy,
            ScoreInitializer = OfficialScoreInitializer.Instance,
        };
        var searcher = new MaskSearcher(options);
        var steps = root.GetProperty("steps").EnumerateArray().ToList();
        double worst = 0;
        int observed = 0;
        searcher.StepObserver = (masked, state) =>
        {
            var reference = steps[observed].GetProperty("layers");
            foreach (var name in Searched)
            {
                var layer = reference.GetProperty(name.Split('.')[0]);
                var scores = state.Scores[name].flatten().data<float>().ToArray();
                var expectedScores = Doubles(layer.GetProperty("scores"));
                for (int i = 0; i < scores.Length; i++)
                {
                    worst = Math.Max(worst, Math.Abs(scores[i] - expectedScores[i]));
                }

                masked.Mask(name).flatten().data<bool>().ToArray().Should().Equal(Bits(layer.GetProperty("mask")), $"{name} after step {observed + 1}");
            }

            observed++;
            policy.Step = observed;
        };
        using var result = searcher.Search(model, initial, new FixedBatches(root));

        observed.Should().Be(config.GetProperty("steps").GetInt32());
        worst.Should().BeLessThan(1e-6, "scores follow PyTorch's to float32 rounding (measured: 6e-8, one ulp at 1.0; the fixture's smallest boundary gap is 1.5e-5)");
        var expectedRefused = steps.SelectMany((s, i) => Searched
                .Where(n => s.GetProperty("layers").GetProperty(n.Split('.')[0]).GetProperty("refused").GetBoolean())
                .Select(n => (i, n)))
            .ToHashSet();
        expectedRefused.Should().NotBeEmpty("the fixture exercises the tie guard");
        policy.Refused.Should().BeEquivalentTo(expectedRefused);
        long swapped = steps.Sum(s => Searched.Sum(n => s.GetProperty("layers").GetProperty(n.Split('.')[0]).GetProperty("pairs").GetInt64()));
        result.History.Single().FlipsAccepted.Should().Be(2 * swapped);
    }
}
