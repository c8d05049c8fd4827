using static TorchSharp.torch;

namespace Sparsity.Data;

/// <summary>
/// The embedded Fashion-MNIST subset (Xiao, Rasul and Vollgraf 2017, arXiv:1708.07747; Zalando SE, MIT
/// licence): 6,000 training images (600 per class) and 1,000 test images (100 per class), drawn
/// deterministically from the original files (<c>data/fashion-mnist-subset/README.md</c> in the repository).
/// The four gzip-compressed IDX files (about 3 MB) are embedded resources of this assembly, so quick runs,
/// samples and tests need no download; the full data set is loaded by <see cref="FashionMnist"/>.
/// </summary>
public static class EmbeddedFashionMnist
{
    /// <summary>Images in the embedded training set.</summary>
    public const int TrainCount = 6_000;

    /// <summary>Images in the embedded test set.</summary>
    public const int TestCount = 1_000;

    private const string ResourcePrefix = "Sparsity.Data.FashionMnistSubset.";

    /// <summary>
    /// Loads the embedded subset without looking anywhere else; <see cref="FashionMnistData.Source"/> is
    /// <see cref="FashionMnist.EmbeddedSource"/>. Images are normalised like the full set (<see cref="FashionMnist.Normalize"/>).
    /// </summary>
    /// <param name="device">Device of the dataset tensors (default CPU).</param>
    /// <returns>The data (owned by the caller).</returns>
    public static FashionMnistData Load(Device? device = null) =>
        FashionMnist.Load(OpenResource, FashionMnist.EmbeddedSource, "embedded resources of Sparsity.Data.FashionMnistSubset", device);

    /// <summary>
    /// Loads the full data set when a folder of <see cref="FashionMnist"/>'s discovery order has it
    /// (<c>SPARSITY_DATA</c>, then <see cref="FashionMnist.SystemFolder"/>), and the embedded subset otherwise.
    /// To read one folder and nothing else, call <see cref="FashionMnist.Load(string?, Device?, Func{FashionMnistData}?)"/>
    /// with its path.
    /// </summary>
    /// <param name="device">Device of the dataset tensors (default CPU).</param>
    /// <returns>The data and its source (<see cref="FashionMnistData.Source"/>).</returns>
    /// <exception cref="SparsityFormatException">A folder that has the files holds corrupt ones (it is not skipped).</exception>
    public static FashionMnistData LoadFullOrEmbedded(Device? device = null) =>
        FashionMnist.Load(path: null, device, () => Load(device));

    private static Stream OpenResource(string fileName)
    {
        var name = ResourcePrefix + fileName + ".gz";
        return typeof(EmbeddedFashionMnist).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded resource {name} is missing from Sparsity.Data.FashionMnistSubset; the package is damaged.");
    }
}
