using static TorchSharp.torch;

namespace Sparsity.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
/// Machine Learning Algorithms", arXiv:1708.07747; Zalando SE, MIT licence): 28×28 grey images of 10
/// clothing classes, 60,000 for training and 10,000 for testing. Nothing is downloaded.
/// </summary>
/// <remarks>
/// <para>Discovery order of <see cref="Load(string?, Device?, Func{FashionMnistData}?)"/>:</para>
/// <list type="number">
/// <item>the explicit <c>path</c> argument (a folder; when given, nothing else is tried);</item>
/// <item>the folder named by the <c>SPARSITY_DATA</c> environment variable, and its <c>fashion-mnist</c> sub-folder;</item>
/// <item><c>/usr/share/datasets/fashion-mnist</c>, installed by the Debian/Ubuntu package <c>dataset-fashion-mnist</c>;</item>
/// <item>the caller's <c>fallback</c>, when given: for example <c>EmbeddedFashionMnist.Load</c> of the
/// <c>Sparsity.Data.FashionMnistSubset</c> package, the subset of 6,000 train / 1,000 test images (600 and 100
/// per class) that ships as that package's embedded resources. Sparsity.Core itself carries no data.</item>
/// </list>
/// <para>A folder qualifies when it holds the four files <c>train-images-idx3-ubyte</c>,
/// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and <c>t10k-labels-idx1-ubyte</c>, each raw
/// or with a <c>.gz</c> suffix. A folder with corrupt files is an error (not skipped).</para>
/// <para>Images are scaled to [0, 1], then normalised with <see cref="Mean"/> and <see cref="Std"/>.</para>
/// </remarks>
public static class FashionMnist
{
    /// <summary>Source name of a folder holding the full 60,000/10,000 files.</summary>
    public const string FullSource = "fashion-mnist-full";

    /// <summary>Source name of the subset embedded in the <c>Sparsity.Data.FashionMnistSubset</c> package.</summary>
    public const string EmbeddedSource = "fashion-mnist-embedded";

    /// <summary>Source name of a folder whose files hold other counts than 60,000/10,000.</summary>
    public const string CustomSource = "fashion-mnist-custom";

    /// <summary>The environment variable naming a data folder.</summary>
    public const string EnvironmentVariable = "SPARSITY_DATA";

    /// <summary>Where the Debian/Ubuntu package <c>dataset-fashion-mnist</c> installs the files.</summary>
    public const string SystemFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>Mean of the training pixels scaled to [0, 1].</summary>
    public const float Mean = 0.2860f;

    /// <summary>Standard deviation of the training pixels scaled to [0, 1].</summary>
    public const float Std = 0.3530f;

    /// <summary>Number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>Examples in the full training set.</summary>
    public const int FullTrainCount = 60_000;

    /// <summary>Examples in the full test set.</summary>
    public const int FullTestCount = 10_000;

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The four file names (without <c>.gz</c>): train images, train labels, test images, test labels.</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>
    /// Loads the training and test sets from the first place of the discovery order that has them (see the
    /// type's remarks).
    /// </summary>
    /// <param name="path">A folder with the four IDX files; when given, it is the only folder tried.</param>
    /// <param name="device">Device of the dataset tensors (default CPU; batches are moved to the requested device anyway).</param>
    /// <param name="fallback">Called when no folder has the data (for example <c>() =&gt; EmbeddedFashionMnist.Load()</c>
    /// of the <c>Sparsity.Data.FashionMnistSubset</c> package); without it, a missing data set is an error.</param>
    /// <returns>The data and its source (<see cref="FashionMnistData.Source"/>).</returns>
    /// <exception cref="FileNotFoundException">No folder has the data and there is no fallback; the message lists every place looked and how to get the data.</exception>
    /// <exception cref="SparsityFormatException">A file that was found is corrupt or the counts of images and labels differ.</exception>
    public static FashionMnistData Load(string? path = null, Device? device = null, Func<FashionMnistData>? fallback = null) =>
        Load(Candidates(path, Environment.GetEnvironmentVariable(EnvironmentVariable)), fallback, device);

    /// <summary>
    /// Loads the four files from streams rather than a folder (embedded resources, archives, network streams):
    /// <paramref name="openFile"/> is called once for each of <see cref="FileNames"/> and returns its IDX
    /// content, raw or gzip-compressed. The streams are disposed after reading.
    /// </summary>
    /// <param name="openFile">Opens the file of the given name (one of <see cref="FileNames"/>, without <c>.gz</c>).</param>
    /// <param name="source">The value of <see cref="FashionMnistData.Source"/> (for example <see cref="EmbeddedSource"/>).</param>
    /// <param name="location">The value of <see cref="FashionMnistData.Location"/>: where the streams come from.</param>
    /// <param name="device">Device of the dataset tensors (default CPU).</param>
    /// <returns>The data (owned by the caller).</returns>
    /// <exception cref="SparsityFormatException">A stream's content is corrupt or the counts of images and labels differ.</exception>
    public static FashionMnistData Load(Func<string, Stream> openFile, string source, string location, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(openFile);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        // Errors name the file as "<location>: <name>".
        var prefix = location + ": ";
        IdxArray Read(string qualified)
        {
            var name = qualified[prefix.Length..];
            using var stream = openFile(name) ?? throw new InvalidOperationException($"openFile returned no stream for {name}; it must open each of {string.Join(", ", FileNames)}.");
            return IdxReader.Read(stream, qualified);
        }

        var train = Build(prefix + FileNames[0], prefix + FileNames[1], Read, device);
        try
        {
            var test = Build(prefix + FileNames[2], prefix + FileNames[3], Read, device);
            return new FashionMnistData(train, test, source, location);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The folders <see cref="Load(string?, Device?, Func{FashionMnistData}?)"/> tries, in order: only <paramref name="path"/> when given;
    /// otherwise the environment folder and its <c>fashion-mnist</c> sub-folder (when set), then <see cref="SystemFolder"/>.
    /// </summary>
    /// <param name="path">The explicit folder, or null.</param>
    /// <param name="environmentValue">The value of <see cref="EnvironmentVariable"/>, or null.</param>
    public static IReadOnlyList<string> Candidates(string? path, string? environmentValue)
    {
        if (!string.IsNullOrWhiteSpace(path))
        {
            return [path];
        }

        var list = new List<string>();
        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            list.Add(environmentValue);
            list.Add(Path.Combine(environmentValue, "fashion-mnist"));
        }

        list.Add(SystemFolder);
        return list;
    }

    /// <summary>Loads from the first of <paramref name="folders"/> that has the four files, else from <paramref name="fallback"/>.</summary>
    internal static FashionMnistData Load(IReadOnlyList<string> folders, Func<FashionMnistData>? fallback, Device? device)
    {
        var looked = new List<string>();
        foreach (var folder in folders)
        {
            var files = FindFiles(folder, out var why);
            if (files is null)
            {
                looked.Add($"{folder} ({why})");
                continue;
            }

            var train = Build(files[0], files[1], ReadFile, device);
            try
            {
                var test = Build(files[2], files[3], ReadFile, device);
                var source = train.Count == FullTrainCount && test.Count == FullTestCount ? FullSource : CustomSource;
                return new FashionMnistData(train, test, source, Path.GetFullPath(folder));
            }
            catch
            {
                train.Dispose();
                throw;
            }
        }

        if (fallback is not null)
        {
            return fallback();
        }

        throw new FileNotFoundException(
            "Fashion-MNIST was not found. Looked in: " + string.Join("; ", looked.Select((l, i) => $"{i + 1}. {l}")) + ". " +
            $"Each folder needs {string.Join(", ", FileNames)} (raw or .gz). To get the data: " +
            "install the Debian/Ubuntu package dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist, files in " + SystemFolder + "), " +
            "or download the four .gz files from https://github.com/zalandoresearch/fashion-mnist (data/fashion) into a folder and pass it as path " +
            $"or set {EnvironmentVariable} to it, or use the 6,000/1,000 subset of the Sparsity.Data.FashionMnistSubset package " +
            "(EmbeddedFashionMnist.Load(), or pass it as fallback).");
    }

    /// <summary>Scales uint8 images (N×28×28 or N×1×28×28) to [0, 1] and normalises them: (x/255 − <see cref="Mean"/>) / <see cref="Std"/>, shape N×1×H×W.</summary>
    /// <param name="images">Unsigned-byte images.</param>
    /// <returns>A new float32 tensor (owned by the caller).</returns>
    public static Tensor Normalize(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() is not (3 or 4))
        {
            throw new ArgumentException($"Images must be N×H×W or N×1×H×W; got {images.dim()} dimensions.", nameof(images));
        }

        using var scope = NewDisposeScope();
        var x = images.to(ScalarType.Float32).div_(255f).sub_(Mean).div_(Std);
        if (x.dim() == 3)
        {
            x = x.unsqueeze(1);
        }

        return x.contiguous().MoveToOuterDisposeScope();
    }

    private static string[]? FindFiles(string folder, out string why)
    {
        if (!Directory.Exists(folder))
        {
            why = "no such folder";
            return null;
        }

        var found = new string[FileNames.Count];
        var missing = new List<string>();
        for (int i = 0; i < FileNames.Count; i++)
        {
            var gz = Path.Combine(folder, FileNames[i] + ".gz");
            var raw = Path.Combine(folder, FileNames[i]);
            if (File.Exists(gz))
            {
                found[i] = gz;
            }
            else if (File.Exists(raw))
            {
                found[i] = raw;
            }
            else
            {
                missing.Add(FileNames[i]);
            }
        }

        why = missing.Count == 0 ? "" : $"missing {string.Join(", ", missing)}";
        return missing.Count == 0 ? found : null;
    }

    private static IdxArray ReadFile(string path) => IdxReader.Read(path);

    private static TensorDataset Build(string imagesName, string labelsName, Func<string, IdxArray> read, Device? device)
    {
        using var scope = NewDisposeScope();
        var images = IdxReader.ToImages(read(imagesName), imagesName);
        var labels = IdxReader.ToLabels(read(labelsName), ClassCount, labelsName);
        if (images.shape[0] != labels.shape[0])
        {
            throw new SparsityFormatException(imagesName, $"holds {images.shape[0]} images but {labelsName} holds {labels.shape[0]} labels.");
        }

        if (images.shape[1] != 28 || images.shape[2] != 28)
        {
            throw new SparsityFormatException(imagesName, $"images are {images.shape[1]}×{images.shape[2]}; Fashion-MNIST images are 28×28.");
        }

        var x = Normalize(images);
        if (device is not null)
        {
            x = x.to(device);
            labels = labels.to(device);
        }

        return new TensorDataset(x, labels, ClassCount);
    }
}
