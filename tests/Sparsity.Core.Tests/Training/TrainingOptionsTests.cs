using Sparsity.Training;

namespace Sparsity.Tests.Training;

public sealed class TrainingOptionsTests
{
    [Fact]
    public void TheReferenceRecipeIsTheDocumentedOne()
    {
        var r = TrainingOptions.ReferenceRecipe;
        (r.Epochs, r.BatchSize, r.LearningRate, r.Momentum, r.WeightDecay, r.Nesterov, r.Schedule, r.Seed)
            .Should().Be((10, 128, 0.1, 0.9, 5e-4, false, LearningRateSchedule.Cosine, 0L));
        r.Device.Should().BeNull();
        r.CheckpointFolder.Should().BeNull();
    }

    [Fact]
    public void CosineIsSteppedPerEpochAndStepDecays()
    {
        var cosine = new TrainingOptions { Epochs = 4, LearningRate = 0.1 };
        // lr · (1 + cos(π e / 4)) / 2: e = 0 → 0.1, e = 2 → 0.05, e = 1 → 0.1·(1 + √2/2)/2.
        cosine.LearningRateAt(0).Should().Be(0.1);
        cosine.LearningRateAt(1).Should().BeApproximately(0.1 * (1 + Math.Sqrt(0.5)) / 2, 1e-15);
        cosine.LearningRateAt(2).Should().BeApproximately(0.05, 1e-15);
        cosine.LearningRateAt(3).Should().BeApproximately(0.1 * (1 - Math.Sqrt(0.5)) / 2, 1e-15);
        var act = () => cosine.LearningRateAt(4);
        act.Should().Throw<ArgumentOutOfRangeException>();

        var step = new TrainingOptions { Epochs = 7, LearningRate = 1, Schedule = LearningRateSchedule.Step, StepEpochs = 3, StepGamma = 0.5 };
        Enumerable.Range(0, 7).Select(step.LearningRateAt).Should().Equal(1, 1, 1, 0.5, 0.5, 0.5, 0.25);
        new TrainingOptions { Schedule = LearningRateSchedule.Constant }.LearningRateAt(9).Should().Be(0.1);
    }

    public static TheoryData<TrainingOptions, string> Bad() => new()
    {
        { new TrainingOptions { Epochs = 0 }, "Epochs" },
        { new TrainingOptions { BatchSize = 0 }, "BatchSize" },
        { new TrainingOptions { LearningRate = 0 }, "LearningRate" },
        { new TrainingOptions { LearningRate = double.NaN }, "LearningRate" },
        { new TrainingOptions { Momentum = 1 }, "Momentum" },
        { new TrainingOptions { WeightDecay = -1 }, "WeightDecay" },
        { new TrainingOptions { Momentum = 0, Nesterov = true }, "Nesterov" },
        { new TrainingOptions { Schedule = (LearningRateSchedule)9 }, "Schedule" },
        { new TrainingOptions { StepEpochs = 0 }, "StepEpochs" },
        { new TrainingOptions { StepGamma = 0 }, "StepGamma" },
        { new TrainingOptions { Seed = -1 }, "Seed" },
        { new TrainingOptions { CheckpointFolder = " " }, "CheckpointFolder" },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void ValidateNamesTheBadOption(TrainingOptions options, string name)
    {
        var act = options.Validate;
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(name);
    }

    [Fact]
    public void TheFingerprintCoversTheRecipeButNotDeviceOrFolder()
    {
        var r = TrainingOptions.ReferenceRecipe;
        var variants = new[]
        {
            r with { Epochs = 11 }, r with { BatchSize = 64 }, r with { LearningRate = 0.05 }, r with { Momentum = 0.8 },
            r with { WeightDecay = 1e-4 }, r with { Nesterov = true }, r with { Schedule = LearningRateSchedule.Step },
            r with { StepEpochs = 5 }, r with { StepGamma = 0.2 }, r with { Seed = 1 },
        };
        variants.Select(v => v.Fingerprint()).Append(r.Fingerprint()).Should().OnlyHaveUniqueItems();
        (r with { CheckpointFolder = "/x", Device = TorchSharp.torch.CPU }).Fingerprint().Should().Be(r.Fingerprint());
        Enumerable.Range(0, 100).Select(r.EpochSeed).Should().OnlyHaveUniqueItems().And.OnlyContain(s => s >= 0);
    }
}
