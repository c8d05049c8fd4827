using System.IO.Compression;
using System.Security.Cryptography;
using static TorchSharp.torch;

namespace Sparsity.Data.FashionMnistSubset.Tests;

[Collection(SequentialCollection.Name)]
public sealed class EmbeddedFashionMnistTests
{
    // data/fashion-mnist-subset/README.md: SHA-256 of the files make_subset.py wrote. The resources are those bytes.
    private static readonly Dictionary<string, string> Sha256 = new()
    {
        ["train-images-idx3-ubyte"] = "7176a6660423fa5ad3d5e12399417db2729a286340362834ed30ba70061237de",
        ["train-labels-idx1-ubyte"] = "68822b1df4ddc1170cceef6aaeb65c8c0688c526a91cc3af3419538fa3d8acd6",
        ["t10k-images-idx3-ubyte"] = "7a33c69a64f34d8c26f913ee616cc5eeb390c032bd052267d3122bb6d219a7dc",
        ["t10k-labels-idx1-ubyte"] = "3228cdd773a6ce10def749f9ea727e20715f850b6743802bcfb2c719a634bc5d",
    };

    [Fact]
    public void TheResourcesAreTheFilesOfTheSubsetReadme()
    {
        var assembly = typeof(EmbeddedFashionMnist).Assembly;
        assembly.GetManifestResourceNames().Should().BeEquivalentTo(Sha256.Keys.Select(k => $"Sparsity.Data.FashionMnistSubset.{k}.gz"));
        foreach (var (file, expected) in Sha256)
        {
            using var stream = assembly.GetManifestResourceStream($"Sparsity.Data.FashionMnistSubset.{file}.gz")!;
            Convert.ToHexStringLower(SHA256.HashData(stream)).Should().Be(expected, file);
        }
    }

    [Fact]
    public void CoreCarriesNoData()
    {
        typeof(FashionMnist).Assembly.GetManifestResourceNames().Should().BeEmpty();
    }

    [Fact]
    public void TheSubsetIsClassBalancedAndLabelledAsEmbedded()
    {
        using var data = EmbeddedFashionMnist.Load();
        data.Source.Should().Be(FashionMnist.EmbeddedSource);
        data.Location.Should().Contain("Sparsity.Data.FashionMnistSubset");
        data.Train.Count.Should().Be(EmbeddedFashionMnist.TrainCount).And.Be(6_000);
        data.Test.Count.Should().Be(EmbeddedFashionMnist.TestCount).And.Be(1_000);
        data.Train.Inputs.shape.Should().Equal(6_000L, 1L, 28L, 28L);
        using var trainCounts = data.Train.Labels.bincount(null, 10);
        trainCounts.data<long>().ToArray().Should().AllBeEquivalentTo(600L);
        using var testCounts = data.Test.Labels.bincount(null, 10);
        testCounts.data<long>().ToArray().Should().AllBeEquivalentTo(100L);
        // The subset is drawn at random from the training set, so its pixel statistics are close to the full set's.
        using var mean = data.Train.Inputs.mean();
        using var std = data.Train.Inputs.std();
        mean.item<float>().Should().BeApproximately(0f, 0.03f);
        std.item<float>().Should().BeApproximately(1f, 0.03f);
    }

    [Fact]
    public void ThePixelsAreTheDecompressedBytesNormalised()
    {
        // Independent route: read the first training image straight from the gzip resource (16-byte IDX header).
        using var stream = typeof(EmbeddedFashionMnist).Assembly.GetManifestResourceStream("Sparsity.Data.FashionMnistSubset.train-images-idx3-ubyte.gz")!;
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        var bytes = new byte[16 + 784];
        gzip.ReadExactly(bytes);
        using var data = EmbeddedFashionMnist.Load();
        var first = data.Train.Inputs[0].flatten().data<float>().ToArray();
        for (int i = 0; i < 784; i++)
        {
            first[i].Should().BeApproximately((bytes[16 + i] / 255f - FashionMnist.Mean) / FashionMnist.Std, 1e-5f);
        }
    }

    [Fact]
    public void LoadFullOrEmbeddedPrefersAFolderAndFallsBackToTheSubset()
    {
        var before = Environment.GetEnvironmentVariable(FashionMnist.EnvironmentVariable);
        var root = Directory.CreateTempSubdirectory("sparsity-subset-").FullName;
        try
        {
            // A folder of the discovery order wins: 3 blank training images and 2 test images written here.
            foreach (var (name, dims) in new[] { ("train-images-idx3-ubyte", new[] { 3, 28, 28 }), ("train-labels-idx1-ubyte", new[] { 3 }),
                                                  ("t10k-images-idx3-ubyte", new[] { 2, 28, 28 }), ("t10k-labels-idx1-ubyte", new[] { 2 }) })
            {
                File.WriteAllBytes(Path.Combine(root, name), Idx(dims));
            }

            Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, root);
            using (var found = EmbeddedFashionMnist.LoadFullOrEmbedded())
            {
                found.Source.Should().Be(FashionMnist.CustomSource);
                found.Train.Count.Should().Be(3);
            }

            Assert.SkipWhen(Directory.Exists(FashionMnist.SystemFolder), "the full data set is installed, so the fallback is not reached");
            Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, Path.Combine(root, "empty"));
            using var fallback = EmbeddedFashionMnist.LoadFullOrEmbedded(CPU);
            fallback.Source.Should().Be(FashionMnist.EmbeddedSource);
            fallback.Train.Count.Should().Be(6_000);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, before);
            Directory.Delete(root, recursive: true);
        }
    }

    private static byte[] Idx(int[] dims)
    {
        var count = dims.Aggregate(1, (a, b) => a * b);
        var bytes = new byte[4 + 4 * dims.Length + count];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            bytes[4 + 4 * i] = (byte)(dims[i] >> 24);
            bytes[5 + 4 * i] = (byte)(dims[i] >> 16);
            bytes[6 + 4 * i] = (byte)(dims[i] >> 8);
            bytes[7 + 4 * i] = (byte)dims[i];
        }

        return bytes;
    }
}
