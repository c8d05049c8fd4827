namespace Sparsity.Data;

/// <summary>
/// The Fashion-MNIST training and test sets as loaded by <see cref="FashionMnist.Load(string?, TorchSharp.torch.Device?, Func{FashionMnistData}?)"/>:
/// normalised float images N×1×28×28 and int64 labels, plus where they came from. Owns both datasets.
/// </summary>
public sealed class FashionMnistData : IDisposable
{
    internal FashionMnistData(TensorDataset train, TensorDataset test, string source, string location)
    {
        Train = train;
        Test = test;
        Source = source;
        Location = location;
    }

    /// <summary>The training set (60,000 examples for the full data, 6,000 for the embedded subset).</summary>
    public TensorDataset Train { get; }

    /// <summary>The test set (10,000 examples for the full data, 1,000 for the embedded subset).</summary>
    public TensorDataset Test { get; }

    /// <summary>
    /// Which data this is: <see cref="FashionMnist.FullSource"/> (a folder with the full 60k/10k files),
    /// <see cref="FashionMnist.EmbeddedSource"/> (the subset of the Sparsity.Data.FashionMnistSubset package), or
    /// <see cref="FashionMnist.CustomSource"/> (a folder whose files have other counts).
    /// </summary>
    public string Source { get; }

    /// <summary>The folder the files were read from, or where the streams came from (for the embedded subset: its assembly).</summary>
    public string Location { get; }

    /// <summary>Disposes both datasets.</summary>
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
