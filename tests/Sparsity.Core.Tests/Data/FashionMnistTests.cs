using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Tests.Data;

[Collection(SequentialCollection.Name)] // reads and sets the SPARSITY_DATA environment variable
public sealed class FashionMnistTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sparsity-fmnist-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void CandidatesFollowTheDocumentedOrder()
    {
        FashionMnist.Candidates("/explicit", "/env").Should().Equal("/explicit");
        FashionMnist.Candidates(null, "/env").Should().Equal("/env", Path.Combine("/env", "fashion-mnist"), "/usr/share/datasets/fashion-mnist");
        FashionMnist.Candidates(null, null).Should().Equal("/usr/share/datasets/fashion-mnist");
        FashionMnist.Candidates(" ", "").Should().Equal("/usr/share/datasets/fashion-mnist");
    }

    [Fact]
    public void TheFirstCompleteFolderWinsAndIncompleteOnesAreSkipped()
    {
        var incomplete = Path.Combine(_root, "incomplete");
        IdxBytes.WriteFolder(incomplete, 3, 2);
        File.Delete(Path.Combine(incomplete, "t10k-labels-idx1-ubyte.gz"));
        var first = Path.Combine(_root, "first");
        IdxBytes.WriteFolder(first, 4, 2, gzip: false);
        var second = Path.Combine(_root, "second");
        IdxBytes.WriteFolder(second, 5, 3);

        using var data = FashionMnist.Load([Path.Combine(_root, "missing"), incomplete, first, second], fallback: null, device: null);
        data.Location.Should().Be(Path.GetFullPath(first));
        data.Source.Should().Be(FashionMnist.CustomSource);
        data.Train.Count.Should().Be(4);
        data.Test.Count.Should().Be(2);
        data.Train.ExampleShape.Should().Equal(1L, 28L, 28L);
    }

    [Fact]
    public void NotFoundListsEveryPlaceAndHowToGetTheData()
    {
        var incomplete = Path.Combine(_root, "incomplete");
        IdxBytes.WriteFolder(incomplete, 3, 2);
        File.Delete(Path.Combine(incomplete, "train-images-idx3-ubyte.gz"));
        var missing = Path.Combine(_root, "missing");

        var act = () => FashionMnist.Load([missing, incomplete], fallback: null, device: null);
        var message = act.Should().Throw<FileNotFoundException>().Which.Message;
        message.Should().Contain($"1. {missing} (no such folder)")
            .And.Contain($"2. {incomplete} (missing train-images-idx3-ubyte)")
            .And.Contain("Sparsity.Data.FashionMnistSubset")
            .And.Contain("apt-get install dataset-fashion-mnist")
            .And.Contain("SPARSITY_DATA")
            .And.Contain("https://github.com/zalandoresearch/fashion-mnist");
    }

    [Fact]
    public void AnExplicitPathIsTheOnlyPlaceTried()
    {
        var act = () => FashionMnist.Load(Path.Combine(_root, "nope"));
        act.Should().Throw<FileNotFoundException>().WithMessage($"*Looked in: 1. {Path.Combine(_root, "nope")} (no such folder). Each folder*");
    }

    [Fact]
    public void TheEnvironmentVariableComesBeforeTheSystemFolderAndItsSubfolderIsTried()
    {
        var before = Environment.GetEnvironmentVariable(FashionMnist.EnvironmentVariable);
        try
        {
            IdxBytes.WriteFolder(Path.Combine(_root, "fashion-mnist"), 6, 2);
            Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, _root);
            using var data = FashionMnist.Load();
            data.Location.Should().Be(Path.GetFullPath(Path.Combine(_root, "fashion-mnist")));
            data.Train.Count.Should().Be(6);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, before);
        }
    }

    [Fact]
    public void ACorruptFileInAFoundFolderIsAnErrorNotSkipped()
    {
        var folder = Path.Combine(_root, "corrupt");
        IdxBytes.WriteFolder(folder, 3, 2);
        File.WriteAllBytes(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Raw([2, 28], new byte[56])));
        var act = () => FashionMnist.Load([folder], fallback: null, device: null);
        act.Should().Throw<SparsityFormatException>().WithMessage("*t10k-images-idx3-ubyte.gz: an image file has 3 dimensions*");

        var mismatch = Path.Combine(_root, "mismatch");
        IdxBytes.WriteFolder(mismatch, 3, 2);
        File.WriteAllBytes(Path.Combine(mismatch, "train-labels-idx1-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Raw([4], [0, 1, 2, 3])));
        act = () => FashionMnist.Load([mismatch], fallback: null, device: null);
        act.Should().Throw<SparsityFormatException>().WithMessage("*holds 3 images but*holds 4 labels*");
    }

    [Fact]
    public void NormalisationMatchesTheClosedForm()
    {
        var folder = Path.Combine(_root, "white");
        IdxBytes.WriteFolder(folder, 2, 1, fill: 255);
        using var data = FashionMnist.Load([folder], fallback: null, device: null);
        data.Train.Inputs.shape.Should().Equal(2L, 1L, 28L, 28L);
        data.Train.Inputs.dtype.Should().Be(ScalarType.Float32);
        data.Train.Inputs[1, 0, 27, 27].item<float>().Should().BeApproximately((1f - 0.2860f) / 0.3530f, 1e-6f);
        using var black = zeros(new long[] { 1, 28, 28 }, ScalarType.Byte);
        using var normalised = FashionMnist.Normalize(black);
        normalised[0, 0, 0, 0].item<float>().Should().BeApproximately(-0.2860f / 0.3530f, 1e-6f);
        data.Train.Labels.data<long>().ToArray().Should().Equal(0L, 1L);
    }

    [Fact]
    public void TheFallbackIsCalledOnlyWhenNoFolderHasTheData()
    {
        var folder = Path.Combine(_root, "present");
        IdxBytes.WriteFolder(folder, 3, 2);
        int calls = 0;
        FashionMnistData Fallback()
        {
            calls++;
            return FashionMnist.Load([folder], fallback: null, device: null);
        }

        using (var found = FashionMnist.Load([folder], Fallback, device: null))
        {
            found.Train.Count.Should().Be(3);
        }

        calls.Should().Be(0);
        using var fallback = FashionMnist.Load([Path.Combine(_root, "missing")], Fallback, device: null);
        calls.Should().Be(1);
        fallback.Location.Should().Be(Path.GetFullPath(folder));
    }

    [Fact]
    public void StreamsAreReadLikeFilesAndNamedInErrors()
    {
        var folder = Path.Combine(_root, "streams");
        IdxBytes.WriteFolder(folder, 4, 2);
        var opened = new List<string>();
        using (var data = FashionMnist.Load(name => { opened.Add(name); return File.OpenRead(Path.Combine(folder, name + ".gz")); }, "my-source", "my-archive"))
        {
            data.Source.Should().Be("my-source");
            data.Location.Should().Be("my-archive");
            data.Train.Count.Should().Be(4);
            data.Test.Count.Should().Be(2);
        }

        opened.Should().Equal(FashionMnist.FileNames);
        File.WriteAllBytes(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"), IdxBytes.Gzip(IdxBytes.Raw([3], [0, 1, 2])));
        var act = () => FashionMnist.Load(name => File.OpenRead(Path.Combine(folder, name + ".gz")), "my-source", "my-archive");
        act.Should().Throw<SparsityFormatException>().WithMessage("*holds 2 images but*my-archive: t10k-labels-idx1-ubyte holds 3 labels*");
        var none = () => FashionMnist.Load(_ => null!, "my-source", "my-archive");
        none.Should().Throw<InvalidOperationException>().WithMessage("*openFile returned no stream for train-images-idx3-ubyte*");
    }

    [Fact]
    public void TheSystemFolderHoldsTheFullDataWithTheDocumentedStatisticsWhenInstalled()
    {
        Assert.SkipUnless(Directory.Exists(FashionMnist.SystemFolder), "dataset-fashion-mnist is not installed");
        using var data = FashionMnist.Load(FashionMnist.SystemFolder);
        data.Source.Should().Be(FashionMnist.FullSource);
        data.Train.Count.Should().Be(60_000);
        data.Test.Count.Should().Be(10_000);
        using var mean = data.Train.Inputs.mean();
        using var std = data.Train.Inputs.std();
        mean.item<float>().Should().BeApproximately(0f, 1e-3f);
        std.item<float>().Should().BeApproximately(1f, 1e-3f);
    }
}
