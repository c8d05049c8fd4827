// The runs here take well under a second each; they use the default cancellation token (the tests of cancellation pass their own).
#pragma warning disable xUnit1051

using Sparsity.IO;
using Sparsity.Training;
using static Sparsity.Tests.Training.TrainingFixtures;

namespace Sparsity.Tests.Training;

[Collection(SequentialCollection.Name)] // seeds the global generator
public sealed class PretrainedTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sparsity-pre-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TrainsOnceThenReusesTheCache()
    {
        var recipe = Fast(epochs: 2);
        var first = Pretrained.GetOrTrain(() => Mlp(123), "mlp", Train, Test, "tiny", _root, recipe);
        first.FromCache.Should().BeFalse();
        first.Epochs.Should().HaveCount(2);
        first.TestAccuracy.Should().Be(first.Epochs[^1].TestAccuracy!.Value);
        first.SecondsPerEpoch.Should().HaveCount(2);
        first.Path.Should().Be(Pretrained.CachePath(_root, "mlp", "tiny", recipe, Train.Count, Test.Count));
        Directory.GetFileSystemEntries(_root).Should().Equal(first.Path); // the run folder is removed

        var second = Pretrained.GetOrTrain(() => Mlp(456), "mlp", Train, Test, "tiny", _root, recipe);
        second.FromCache.Should().BeTrue();
        second.Epochs.Should().Equal(first.Epochs);
        Identical(Snapshot(second.Model), Snapshot(first.Model)).Should().BeTrue();
        Evaluator.Evaluate(second.Model, Test).Accuracy.Should().Be(first.TestAccuracy);

        // The cache file is a plain state dict.
        using var plain = Mlp(0);
        StateDict.Load(plain, first.Path).IsExact.Should().BeTrue();
        first.Model.Dispose();
        second.Model.Dispose();
    }

    [Fact]
    public void InitialisationFollowsTheRecipeSeedNotTheCallersGenerator()
    {
        var recipe = Fast(epochs: 1);
        var a = Pretrained.GetOrTrain(() => Mlp(seed: 1) , "a", Train, Test, "tiny", _root, recipe);
        TorchSharp.torch.manual_seed(999);
        var b = Pretrained.GetOrTrain(() => TrainingFixturesUnseeded(), "b", Train, Test, "tiny", _root, recipe);
        var c = Pretrained.GetOrTrain(() => TrainingFixturesUnseeded(), "c", Train, Test, "tiny", _root, recipe);
        Identical(Snapshot(b.Model), Snapshot(c.Model)).Should().BeTrue();
        a.Model.Dispose();
        b.Model.Dispose();
        c.Model.Dispose();
    }

    [Fact]
    public void TheCacheKeyDependsOnModelRecipeAndData()
    {
        var r = Fast();
        var paths = new[]
        {
            Pretrained.CachePath(_root, "m", "d", r, 10, 5),
            Pretrained.CachePath(_root, "m2", "d", r, 10, 5),
            Pretrained.CachePath(_root, "m", "d2", r, 10, 5),
            Pretrained.CachePath(_root, "m", "d", r with { Seed = 1 }, 10, 5),
            Pretrained.CachePath(_root, "m", "d", r, 11, 5),
        };
        paths.Should().OnlyHaveUniqueItems();
        Pretrained.CachePath(_root, "m", "d", r with { CheckpointFolder = "/x" }, 10, 5).Should().Be(paths[0]);
        var act = () => Pretrained.GetOrTrain(() => Mlp(0), "bad/name", Train, Test, "d", _root);
        act.Should().Throw<ArgumentException>().WithParameterName("modelName");
    }

    private static TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> TrainingFixturesUnseeded() =>
        TorchSharp.torch.nn.Sequential(("flat", TorchSharp.torch.nn.Flatten()), ("fc", TorchSharp.torch.nn.Linear(784, 10)));
}
