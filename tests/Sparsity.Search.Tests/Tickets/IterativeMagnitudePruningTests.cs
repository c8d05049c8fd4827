using Sparsity.Data;
using Sparsity.Search.Tickets;
using Sparsity.Training;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests.Tickets;

[Collection(SequentialCollection.Name)]
public sealed class IterativeMagnitudePruningTests
{
    private const long Fc1 = 8 * 16;
    private const long Fc2 = 16 * 12;

    [Fact]
    public void Each_level_prunes_exactly_ceil_fraction_of_the_remaining_weights()
    {
        var model = TicketFixtures.Mlp();
        var trainer = new ScriptedTrainer(2, 3);
        var imp = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { FractionPerLevel = 0.2, Levels = 8 });
        using var result = imp.Run(model, trainer, cancellationToken: TestContext.Current.CancellationToken);

        long remaining = Fc1 + Fc2;
        var expected = new List<long> { remaining };
        for (int l = 0; l < 8; l++)
        {
            remaining -= (long)Math.Ceiling(0.2m * remaining);
            expected.Add(remaining);
        }

        result.Levels.Select(r => r.KeptCount).Should().Equal(expected);
        result.Mask.KeptCount.Should().Be(expected[^1]);
        result.StopReason.Should().Be(StopReason.LevelsDone);

        // Masks are nested: a pruned weight is never revived.
        for (int i = 2; i < trainer.Masks.Count; i++)
        {
            var previous = trainer.Masks[i - 1]!;
            var current = trainer.Masks[i]!;
            foreach (var name in current.Names)
            {
                using var revived = current[name].logical_and(previous[name].logical_not());
                revived.any().item<bool>().Should().BeFalse();
            }
        }
    }

    [Fact]
    public void Ties_are_broken_by_flat_index_over_the_layers_in_order_and_runs_repeat_exactly()
    {
        MaskSet Run()
        {
            var model = TicketFixtures.Mlp();
            using (no_grad())
            {
                foreach (var p in model.parameters())
                {
                    p.fill_(1.0);
                }
            }

            using var result = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { Levels = 2 }).Run(model, new ScriptedTrainer(1, 1), cancellationToken: TestContext.Current.CancellationToken);
            return result.Mask.Clone();
        }

        using var mask = Run();
        using var again = Run();
        mask.Equals(again).Should().BeTrue();

        // All scores tie: N = 320; level 1 keeps the first 256 flat positions, level 2 keeps 256 − ⌈51.2⌉ = 204.
        mask.KeptIn("fc1.weight").Should().Be(128);
        mask.KeptIn("fc2.weight").Should().Be(76);
        using var flat = mask["fc2.weight"].flatten();
        flat.narrow(0, 0, 76).all().item<bool>().Should().BeTrue();
        flat.narrow(0, 76, 192 - 76).any().item<bool>().Should().BeFalse();
    }

    [Fact]
    public void A_data_criterion_scores_with_the_scoring_data_and_keeps_the_exact_counts()
    {
        using var data = TicketFixtures.Data(32, 4);
        var model = TicketFixtures.Mlp(8);
        var trainer = new ScriptedTrainer(1, 1);
        var options = new IterativeMagnitudePruningOptions { Levels = 3, Criterion = new Sparsity.Criteria.SnipCriterion(), ScoringData = data, ScoringBatchSize = 16, ScoringBatches = 2 };
        using var result = new IterativeMagnitudePruning(options).Run(model, trainer, cancellationToken: TestContext.Current.CancellationToken);

        result.Levels.Select(r => r.KeptCount).Should().Equal(320, 256, 204, 163);
        using var magnitude = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { Levels = 3 })
            .Run(TicketFixtures.Mlp(8), new ScriptedTrainer(1, 1), cancellationToken: TestContext.Current.CancellationToken);
        result.Mask.Equals(magnitude.Mask).Should().BeFalse("SNIP ranks by |g ⊙ w|, not |w|");
        for (int i = 2; i < trainer.Masks.Count; i++)
        {
            foreach (var name in trainer.Masks[i]!.Names)
            {
                using var revived = trainer.Masks[i]![name].logical_and(trainer.Masks[i - 1]![name].logical_not());
                revived.any().item<bool>().Should().BeFalse();
            }
        }
    }

    [Fact]
    public void Dense_kept_layers_are_never_masked_and_keep_their_weights()
    {
        var model = TicketFixtures.Mlp();
        var before = TicketFixtures.State(model);
        var trainer = new ScriptedTrainer(1, 2);
        using var result = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { FractionPerLevel = 0.5, Levels = 4 }).Run(model, trainer, cancellationToken: TestContext.Current.CancellationToken);

        result.Mask.Names.Should().Equal("fc1.weight", "fc2.weight");
        trainer.Masks.Skip(1).Should().OnlyContain(m => m != null && !m.Contains("fc3.weight"));
        var after = TicketFixtures.State(model);
        TicketFixtures.Same(after["fc3.weight"], before["fc3.weight"]).Should().BeTrue();
        TicketFixtures.Same(after["fc3.bias"], before["fc3.bias"]).Should().BeTrue();
        after["fc3.weight"].count_nonzero().item<long>().Should().Be(36);
        result.Mask.Density.Should().BeApproximately(Math.Pow(0.5, 4), 0.01);
    }

    [Fact]
    public void Layer_wise_pruning_uses_the_separate_output_rate()
    {
        var model = TicketFixtures.Mlp();
        var options = new IterativeMagnitudePruningOptions
        {
            FractionPerLevel = 0.2,
            OutputLayerFraction = 0.1,
            Allocation = new LayerWiseAllocation(),
            Parameters = new ParameterSelectorOptions(),
            Levels = 3,
        };
        using var result = new IterativeMagnitudePruning(options).Run(model, new ScriptedTrainer(1, 1), cancellationToken: TestContext.Current.CancellationToken);

        static long After(long n, double f, int levels)
        {
            for (int i = 0; i < levels; i++)
            {
                n -= IterativeMagnitudePruning.PruneCount(n, f);
            }

            return n;
        }

        result.Mask.KeptIn("fc1.weight").Should().Be(After(128, 0.2, 3));
        result.Mask.KeptIn("fc2.weight").Should().Be(After(192, 0.2, 3));
        result.Mask.KeptIn("fc3.weight").Should().Be(After(36, 0.1, 3));
    }

    [Fact]
    public void Target_sparsity_lands_exactly_on_the_budget()
    {
        var model = TicketFixtures.Mlp();
        using var result = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { TargetSparsity = 0.5 }).Run(model, new ScriptedTrainer(1, 1), cancellationToken: TestContext.Current.CancellationToken);
        result.StopReason.Should().Be(StopReason.TargetReached);
        result.Mask.KeptCount.Should().Be(SparsityBudget.KeptCount(320, 0.5));
        result.Levels.Should().HaveCount(5); // 320 → 256 → 204 → 163 → 160, plus the dense run
    }

    [Fact]
    public void Rewinding_to_init_restores_exactly_the_initial_weights_on_surviving_positions()
    {
        var model = TicketFixtures.Mlp(5);
        var init = TicketFixtures.State(model);
        using var train = TicketFixtures.Data(48, 1);
        using var test = TicketFixtures.Data(24, 2);
        var trainer = new RecordingTrainer(RealTrainer.Create(train, test, RealTrainer.Recipe(2)));
        var folder = TicketFixtures.TempFolder();
        using var result = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { Levels = 3 }).Run(model, trainer, folder, cancellationToken: TestContext.Current.CancellationToken);

        trainer.Starts.Should().HaveCount(4);
        TicketFixtures.SameState(trainer.Starts[0], init).Should().BeTrue();
        for (int level = 1; level <= 3; level++)
        {
            var mask = trainer.Masks[level]!;
            var expected = init.ToDictionary(kv => kv.Key, kv => mask.Contains(kv.Key) ? kv.Value.mul(mask[kv.Key]) : kv.Value);
            TicketFixtures.SameState(trainer.Starts[level], expected).Should().BeTrue($"level {level} starts from the initial weights masked");
            trainer.Requests[level].StartStep.Should().Be(0);
            trainer.Requests[level].StepCount.Should().Be(2 * trainer.StepsPerEpoch);

            // The ticket file holds the same: mask + rewound weights.
            var fresh = TicketFixtures.Mlp(99);
            var path = Path.Combine(folder, TicketCheckpoint.TicketFileName(level));
            using var loaded = TicketCheckpoint.Load(fresh, path);
            loaded.Equals(mask).Should().BeTrue();
            TicketFixtures.SameState(TicketFixtures.State(fresh), expected).Should().BeTrue();
            var record = TicketCheckpoint.ReadRecord(path);
            record.KeptCount.Should().Be(mask.KeptCount);
            record.Layers.Should().Equal(mask.Layers);
            record.Epochs.Select(e => e.TestAccuracy).Should().Equal(result.History[level].Epochs.Select(e => e.TestAccuracy));
        }

        // The model ends with the final ticket's trained weights, pruned positions exactly zero.
        TicketFixtures.SameState(TicketFixtures.State(model), trainer.Ends[^1]).Should().BeTrue();
        foreach (var name in result.Mask.Names)
        {
            using var pruned = model.state_dict()[name].masked_select(result.Mask[name].logical_not());
            pruned.count_nonzero().item<long>().Should().Be(0);
        }
    }

    [Fact]
    public void Late_rewinding_restores_the_epoch_k_weights_and_resumes_the_schedule()
    {
        var model = TicketFixtures.Mlp(6);
        var init = TicketFixtures.State(model);
        using var train = TicketFixtures.Data(48, 1);
        using var test = TicketFixtures.Data(24, 2);
        var recipe = RealTrainer.Recipe(3);
        var adapter = RealTrainer.Create(train, test, recipe);
        var trainer = new RecordingTrainer(adapter, captureDenseStep: adapter.StepsPerEpoch);
        using var result = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { Levels = 2, Rewind = RewindPoint.AtEpoch(1) })
            .Run(model, trainer, cancellationToken: TestContext.Current.CancellationToken);

        // Independent route to the rewind weights: one epoch of the same recipe from the same initialisation.
        var reference = TicketFixtures.Mlp(6);
        TicketFixtures.SameState(TicketFixtures.State(reference), init).Should().BeTrue();
        new Trainer().Train(reference, train, test, recipe with { Epochs = 1 }, cancellationToken: TestContext.Current.CancellationToken);
        var afterEpoch1 = TicketFixtures.State(reference);
        TicketFixtures.SameState(trainer.DenseAtStep!, afterEpoch1).Should().BeTrue();

        result.History[0].Epochs.Select(e => e.LearningRate).Should().Equal(recipe.LearningRateAt(0), recipe.LearningRateAt(1), recipe.LearningRateAt(2));
        for (int level = 1; level <= 2; level++)
        {
            var request = trainer.Requests[level];
            request.StartStep.Should().Be(adapter.StepsPerEpoch);
            request.StepCount.Should().Be(2 * adapter.StepsPerEpoch);
            result.History[level].Epochs.Select(e => (e.Epoch, e.LearningRate)).Should().Equal(
                [(2, recipe.LearningRateAt(1)), (3, recipe.LearningRateAt(2))], "the schedule resumes at the rewind epoch");
            var mask = trainer.Masks[level]!;
            var expected = afterEpoch1.ToDictionary(kv => kv.Key, kv => mask.Contains(kv.Key) ? kv.Value.mul(mask[kv.Key]) : kv.Value);
            TicketFixtures.SameState(trainer.Starts[level], expected).Should().BeTrue($"level {level} starts from the epoch-1 weights masked");
        }
    }

    [Fact]
    public void Step_rewinding_inside_an_epoch_resumes_at_that_step_when_the_trainer_can()
    {
        var trainer = new ScriptedTrainer(3, 4) { CanStartMidEpoch = true };
        using var result = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { Levels = 1, Rewind = RewindPoint.AtStep(5) })
            .Run(TicketFixtures.Mlp(), trainer, cancellationToken: TestContext.Current.CancellationToken);
        trainer.Requests[1].StartStep.Should().Be(5);
        trainer.Requests[1].StepCount.Should().Be(12 - 5);
        trainer.Requests[1].HoldLearningRate.Should().BeFalse();
    }

    [Fact]
    public void Fine_tuning_and_learning_rate_rewinding_start_from_the_trained_weights()
    {
        foreach (var rewind in new[] { RewindPoint.FineTune, RewindPoint.LearningRateRewinding })
        {
            var model = TicketFixtures.Mlp(6);
            using var train = TicketFixtures.Data(48, 1);
            using var test = TicketFixtures.Data(24, 2);
            var recipe = RealTrainer.Recipe(2);
            var trainer = new RecordingTrainer(RealTrainer.Create(train, test, recipe));
            using var result = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { Levels = 2, Rewind = rewind, FineTuneEpochs = 1 })
                .Run(model, trainer, cancellationToken: TestContext.Current.CancellationToken);

            for (int level = 1; level <= 2; level++)
            {
                var mask = trainer.Masks[level]!;
                var expected = trainer.Ends[level - 1].ToDictionary(kv => kv.Key, kv => mask.Contains(kv.Key) ? kv.Value.mul(mask[kv.Key]) : kv.Value);
                TicketFixtures.SameState(trainer.Starts[level], expected).Should().BeTrue($"{rewind} level {level} continues from the trained weights");
                var rates = result.History[level].Epochs.Select(e => e.LearningRate).ToList();
                if (rewind == RewindPoint.FineTune)
                {
                    rates.Should().Equal([recipe.LearningRateAt(1)], "fine-tuning holds the final learning rate for FineTuneEpochs");
                }
                else
                {
                    rates.Should().Equal(recipe.LearningRateAt(0), recipe.LearningRateAt(1));
                }
            }
        }
    }

    [Fact]
    public void Rate_ladder_undoes_failing_levels_and_stops_when_exhausted()
    {
        var model = TicketFixtures.Mlp();
        // dense 90 %, then attempts: .2 ok, .2 fail, .1 ok, .1 fail (1.1 points below), .05 ok (0.9 below), .05 fail, .01 fail.
        var trainer = new ScriptedTrainer(1, 1, 90.0, 89.5, 88.0, 90.0, 88.9, 89.1, 50.0, 40.0);
        var options = new IterativeMagnitudePruningOptions { Levels = 100, RateLadder = [0.1, 0.05, 0.01], LadderTolerance = 1.0 };
        using var result = new IterativeMagnitudePruning(options).Run(model, trainer, cancellationToken: TestContext.Current.CancellationToken);

        result.StopReason.Should().Be(StopReason.LadderExhausted);
        result.History.Select(r => (r.Level, r.Fraction, r.Accepted)).Should().Equal(
            (0, 0.0, true), (1, 0.2, true), (2, 0.2, false), (2, 0.1, true), (3, 0.1, false), (3, 0.05, true), (4, 0.05, false), (4, 0.01, false));
        long r1 = 320 - IterativeMagnitudePruning.PruneCount(320, 0.2);
        long r2 = r1 - IterativeMagnitudePruning.PruneCount(r1, 0.1);
        long r3 = r2 - IterativeMagnitudePruning.PruneCount(r2, 0.05);
        result.Levels.Select(r => r.KeptCount).Should().Equal(320, r1, r2, r3);
        result.History[2].KeptCount.Should().Be(r1 - IterativeMagnitudePruning.PruneCount(r1, 0.2), "the undone attempt pruned from the kept level");
        result.History[^1].KeptCount.Should().Be(r3 - IterativeMagnitudePruning.PruneCount(r3, 0.01));
        result.Mask.KeptCount.Should().Be(r3);
        result.Final.TestAccuracy.Should().Be(89.1);
    }

    [Fact]
    public void Controls_use_the_ticket_counts_and_weights_and_leave_the_ticket_alone()
    {
        var model = TicketFixtures.Mlp(2);
        var init = TicketFixtures.State(model);
        var trainer = new ScriptedTrainer(1, 1);
        var starts = new List<Dictionary<string, Tensor>>();
        trainer.OnTrain = r => starts.Add(TicketFixtures.State(r.Model));
        var options = new IterativeMagnitudePruningOptions { Levels = 2, ControlLevels = [2] };
        using var result = new IterativeMagnitudePruning(options).Run(model, trainer, cancellationToken: TestContext.Current.CancellationToken);

        // dense, level 1, level 2 ticket, reinit control, random-mask control.
        trainer.Requests.Should().HaveCount(5);
        var ticket = trainer.Masks[2]!;
        var reinitMask = trainer.Masks[3]!;
        var randomMask = trainer.Masks[4]!;
        reinitMask.Equals(ticket).Should().BeTrue();
        randomMask.Layers.Select(l => l.Kept).Should().Equal(ticket.Layers.Select(l => l.Kept));
        randomMask.Equals(ticket).Should().BeFalse();
        TicketFixtures.Same(starts[3]["fc1.weight"], init["fc1.weight"].mul(ticket["fc1.weight"])).Should().BeFalse("the control is re-initialised");
        var expectedRandom = init.ToDictionary(kv => kv.Key, kv => randomMask.Contains(kv.Key) ? kv.Value.mul(randomMask[kv.Key]) : kv.Value);
        TicketFixtures.SameState(starts[4], expectedRandom).Should().BeTrue("the random mask uses the ticket's rewind weights");

        var level2 = result.History[2];
        level2.Reinitialized.Should().NotBeNull();
        level2.RandomMask.Should().NotBeNull();
        level2.RandomMask!.Seed.Should().Be(options.ControlSeed + 2);
        result.History[1].Reinitialized.Should().BeNull();

        // The model ends with the ticket's weights (the scripted trainer changes nothing): init ⊙ mask.
        var expected = init.ToDictionary(kv => kv.Key, kv => ticket.Contains(kv.Key) ? kv.Value.mul(ticket[kv.Key]) : kv.Value);
        TicketFixtures.SameState(TicketFixtures.State(model), expected).Should().BeTrue();
    }

    [Fact]
    public void Resume_after_cancellation_equals_an_uninterrupted_run()
    {
        using var train = TicketFixtures.Data(48, 1);
        using var test = TicketFixtures.Data(24, 2);
        IterativeMagnitudePruningOptions Options() => new() { Levels = 3, ControlLevels = [2], Rewind = RewindPoint.AtEpoch(1) };
        TrainerLevelTrainer NewTrainer() => RealTrainer.Create(train, test, RealTrainer.Recipe(2));
        var ct = TestContext.Current.CancellationToken;

        var fullModel = TicketFixtures.Mlp(4);
        using var full = new IterativeMagnitudePruning(Options()).Run(fullModel, NewTrainer(), TicketFixtures.TempFolder(), cancellationToken: ct);
        var fullState = TicketFixtures.State(fullModel);

        var folder = TicketFixtures.TempFolder();
        using (var cts = new CancellationTokenSource())
        {
            var progress = new SyncProgress<IterativeMagnitudePruningProgress>(p =>
            {
                if (p.Level == 2 && p.Phase == TicketPhase.Reinitialized)
                {
                    cts.Cancel();
                }
            });
            var act = () => new IterativeMagnitudePruning(Options()).Run(TicketFixtures.Mlp(4), NewTrainer(), folder, progress, cts.Token);
            act.Should().Throw<OperationCanceledException>();
        }

        var resumedModel = TicketFixtures.Mlp(123); // any instance: the state comes from the checkpoint
        var trainer2 = new RecordingTrainer(NewTrainer());
        using var resumed = new IterativeMagnitudePruning(Options()).Run(resumedModel, trainer2, folder, cancellationToken: ct);

        trainer2.Requests.Should().HaveCount(4, "level 2 (ticket + two controls) and level 3 are trained again, nothing else");
        resumed.Mask.Equals(full.Mask).Should().BeTrue();
        TicketFixtures.SameState(TicketFixtures.State(resumedModel), fullState).Should().BeTrue();
        resumed.History.Should().HaveCount(full.History.Count);
        for (int i = 0; i < full.History.Count; i++)
        {
            var a = full.History[i];
            var b = resumed.History[i];
            (b.Level, b.Fraction, b.Accepted, b.KeptCount, b.TestAccuracy).Should().Be((a.Level, a.Fraction, a.Accepted, a.KeptCount, a.TestAccuracy));
            b.Epochs.Select(e => e.TestAccuracy).Should().Equal(a.Epochs.Select(e => e.TestAccuracy));
            b.Layers.Should().Equal(a.Layers);
            b.Reinitialized?.TestAccuracy.Should().Be(a.Reinitialized?.TestAccuracy);
            b.RandomMask?.TestAccuracy.Should().Be(a.RandomMask?.TestAccuracy);
        }

        // A finished run resumes to the same result without training.
        var trainer3 = new RecordingTrainer(NewTrainer());
        using var again = new IterativeMagnitudePruning(Options()).Run(TicketFixtures.Mlp(9), trainer3, folder, cancellationToken: ct);
        trainer3.Requests.Should().BeEmpty();
        again.Mask.Equals(full.Mask).Should().BeTrue();
    }

    [Fact]
    public void A_finished_run_continues_when_more_levels_are_asked_for_and_refuses_other_options()
    {
        var folder = TicketFixtures.TempFolder();
        var ct = TestContext.Current.CancellationToken;
        using (var two = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { Levels = 2 }).Run(TicketFixtures.Mlp(), new ScriptedTrainer(1, 1), folder, cancellationToken: ct))
        {
            two.Levels.Should().HaveCount(3);
        }

        var trainer = new ScriptedTrainer(1, 1);
        using var three = new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { Levels = 3 }).Run(TicketFixtures.Mlp(), trainer, folder, cancellationToken: ct);
        trainer.Requests.Should().HaveCount(1, "only level 3 is new");
        three.Levels.Select(r => r.KeptCount).Should().Equal(320, 256, 204, 163);
        File.Exists(Path.Combine(folder, TicketCheckpoint.TicketFileName(3))).Should().BeTrue();

        var other = () => new IterativeMagnitudePruning(new IterativeMagnitudePruningOptions { Levels = 3, Rewind = RewindPoint.AtEpoch(0) }).Run(TicketFixtures.Mlp(), new ScriptedTrainer(1, 1), folder, cancellationToken: ct);
        other.Should().Throw<ArgumentException>().WithMessage("*rewind*");
    }

    public static TheoryData<string, Func<IterativeMagnitudePruningOptions, IterativeMagnitudePruningOptions>> BadOptions => new()
    {
        { "FractionPerLevel", o => o with { FractionPerLevel = 0.0 } },
        { "FractionPerLevel", o => o with { FractionPerLevel = 1.0 } },
        { "FractionPerLevel", o => o with { FractionPerLevel = -0.2 } },
        { "FractionPerLevel", o => o with { FractionPerLevel = double.NaN } },
        { "Levels", o => o with { Levels = 0 } },
        { "TargetSparsity", o => o with { TargetSparsity = 1.0 } },
        { "Rewind", o => o with { Rewind = RewindPoint.AtEpoch(3) } },
        { "Rewind", o => o with { Rewind = RewindPoint.AtStep(3 * 4) } },
        { "Rewind", o => o with { Rewind = RewindPoint.AtStep(5) } },
        { "ScoringData", o => o with { Criterion = new DataCriterion() } },
        { "RateLadder", o => o with { RateLadder = [0.3] } },
        { "RateLadder", o => o with { RateLadder = [0.1, 0.1] } },
        { "OutputLayerFraction", o => o with { OutputLayerFraction = 0.1 } },
        { "LadderTolerance", o => o with { LadderTolerance = -1 } },
        { "ControlLevels", o => o with { ControlLevels = [0] } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_are_rejected_with_the_option_name_and_the_model_unchanged(string option, Func<IterativeMagnitudePruningOptions, IterativeMagnitudePruningOptions> mutate)
    {
        var model = TicketFixtures.Mlp();
        var before = TicketFixtures.State(model);
        var trainer = new ScriptedTrainer(3, 4);
        var act = () => new IterativeMagnitudePruning(mutate(new IterativeMagnitudePruningOptions())).Run(model, trainer, cancellationToken: TestContext.Current.CancellationToken);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == option && e.Message.Contains(option));
        trainer.Requests.Should().BeEmpty();
        TicketFixtures.SameState(TicketFixtures.State(model), before).Should().BeTrue();
    }

    [Fact]
    public void Prune_count_and_sparsity_conversion_are_exact()
    {
        IterativeMagnitudePruning.PruneCount(100, 0.2).Should().Be(20);
        IterativeMagnitudePruning.PruneCount(101, 0.2).Should().Be(21);
        IterativeMagnitudePruning.PruneCount(1, 0.01).Should().Be(1);
        var rng = new Random(1);
        for (int i = 0; i < 2000; i++)
        {
            long total = rng.NextInt64(1, 10_000_000);
            long kept = rng.NextInt64(1, total + 1);
            SparsityBudget.KeptCount(total, IterativeMagnitudePruning.SparsityFor(total, kept)).Should().Be(kept);
        }
    }

    private sealed class DataCriterion : IPruningCriterion
    {
        public string Name => "needs-data";

        public bool RequiresData => true;

        public ScoreSet Score(nn.Module model, IReadOnlyList<PrunableParameter> parameters, IEnumerable<Batch> batches, ScoringOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("not called");
    }
}
