using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Sparsity.Data;
using Sparsity.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Training;

/// <summary>
/// Produces pre-trained models for pruning experiments: trains a model with a fixed recipe (by default
/// <see cref="TrainingOptions.ReferenceRecipe"/>) or reuses the weights cached by an earlier call.
/// </summary>
/// <remarks>
/// <para>The cache file is <c>&lt;cacheFolder&gt;/&lt;modelName&gt;.&lt;dataSource&gt;.&lt;key&gt;.safetensors</c>, where key is
/// the first 16 hex digits of SHA-256 over the model name, the recipe's
/// <see cref="TrainingOptions.Fingerprint"/>, the data source and the train/test counts. It holds the
/// model's state dict under PyTorch keys (<c>StateDict.Load</c> reads it) and metadata (format,
/// model, data source, recipe, history as JSON, test accuracy, seconds per epoch).</para>
/// <para>Training seeds the global TorchSharp generator with the recipe's seed before calling the factory,
/// so the initial weights are a function of the seed. A run interrupted after some epochs resumes from the
/// checkpoint in <c>&lt;cache file&gt;.run/</c> on the next call.</para>
/// </remarks>
public static class Pretrained
{
    /// <summary>Value of the <c>format</c> metadata entry of a cache file.</summary>
    public const string FormatName = "sparsity-pretrained/1";

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Trains (or reuses from <paramref name="cacheFolder"/>) a model on Fashion-MNIST data loaded by <see cref="FashionMnist.Load(string?, Device?, Func{FashionMnistData}?)"/>.</summary>
    /// <param name="factory">Builds a fresh, untrained model (called once, after seeding).</param>
    /// <param name="modelName">Cache name of the architecture: letters, digits, '.', '-', '_'.</param>
    /// <param name="data">The training and test sets; its <see cref="FashionMnistData.Source"/> keys the cache.</param>
    /// <param name="cacheFolder">Folder of the cache files (created if needed).</param>
    /// <param name="recipe">Training options; null for <see cref="TrainingOptions.ReferenceRecipe"/>. Its checkpoint folder is ignored.</param>
    /// <param name="logger">Receives the trainer's per-epoch lines; null for none.</param>
    /// <param name="progress">Receives training progress; null for none.</param>
    /// <param name="cancellationToken">Cancels training between batches (a later call resumes).</param>
    /// <returns>The model, its per-epoch records and whether it came from the cache.</returns>
    public static PretrainedModel GetOrTrain(Func<nn.Module<Tensor, Tensor>> factory, string modelName, FashionMnistData data, string cacheFolder,
        TrainingOptions? recipe = null, ILogger<Trainer>? logger = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return GetOrTrain(factory, modelName, data.Train, data.Test, data.Source, cacheFolder, recipe, logger, progress, cancellationToken);
    }

    /// <summary>Trains (or reuses from <paramref name="cacheFolder"/>) a model on the given datasets.</summary>
    /// <param name="factory">Builds a fresh, untrained model (called once, after seeding).</param>
    /// <param name="modelName">Cache name of the architecture: letters, digits, '.', '-', '_'.</param>
    /// <param name="train">The training set.</param>
    /// <param name="test">The test set (the returned accuracy is measured on it).</param>
    /// <param name="dataSource">Name of the data (letters, digits, '.', '-', '_'), part of the cache key.</param>
    /// <param name="cacheFolder">Folder of the cache files (created if needed).</param>
    /// <param name="recipe">Training options; null for <see cref="TrainingOptions.ReferenceRecipe"/>. Its checkpoint folder is ignored.</param>
    /// <param name="logger">Receives the trainer's per-epoch lines; null for none.</param>
    /// <param name="progress">Receives training progress; null for none.</param>
    /// <param name="cancellationToken">Cancels training between batches (a later call resumes).</param>
    /// <returns>The model, its per-epoch records and whether it came from the cache.</returns>
    /// <exception cref="ArgumentException">A name holds other characters, or a cache file does not fit the model.</exception>
    /// <exception cref="SparsityFormatException">A cache file is corrupt.</exception>
    public static PretrainedModel GetOrTrain(Func<nn.Module<Tensor, Tensor>> factory, string modelName, IDataset train, IDataset test, string dataSource,
        string cacheFolder, TrainingOptions? recipe = null, ILogger<Trainer>? logger = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        CheckName(modelName, nameof(modelName));
        CheckName(dataSource, nameof(dataSource));
        ArgumentException.ThrowIfNullOrWhiteSpace(cacheFolder);
        recipe = (recipe ?? TrainingOptions.ReferenceRecipe) with { CheckpointFolder = null };
        recipe.Validate();

        var path = CachePath(cacheFolder, modelName, dataSource, recipe, train.Count, test.Count);
        if (File.Exists(path))
        {
            var cached = Build(factory, recipe);
            try
            {
                StateDict.Load(cached, path);
                var history = ReadHistory(path);
                cached.eval();
                return new PretrainedModel(cached, modelName, dataSource, history, path, FromCache: true);
            }
            catch
            {
                cached.Dispose();
                throw;
            }
        }

        var runFolder = path + ".run";
        var runCheckpoint = Path.Combine(runFolder, TrainingCheckpoint.FileName);
        var model = Build(factory, recipe);
        try
        {
            var trainer = new Trainer(logger);
            var options = recipe with { CheckpointFolder = runFolder };
            var result = File.Exists(runCheckpoint)
                ? trainer.Resume(model, runCheckpoint, train, test, options, progress, null, cancellationToken)
                : trainer.Train(model, train, test, options, progress, null, cancellationToken);
            var last = result.Epochs[^1];
            var metadata = new Dictionary<string, string>
            {
                ["format"] = FormatName,
                ["model"] = modelName,
                ["data_source"] = dataSource,
                ["train_count"] = train.Count.ToString(CultureInfo.InvariantCulture),
                ["test_count"] = test.Count.ToString(CultureInfo.InvariantCulture),
                ["recipe"] = recipe.Fingerprint(),
                ["epoch"] = result.Epochs.Count.ToString(CultureInfo.InvariantCulture),
                ["seed"] = recipe.Seed.ToString(CultureInfo.InvariantCulture),
                ["test_accuracy"] = (last.TestAccuracy ?? double.NaN).ToString("R", CultureInfo.InvariantCulture),
                ["seconds_per_epoch"] = JsonSerializer.Serialize(result.SecondsPerEpoch, Json),
                ["history"] = JsonSerializer.Serialize(result.Epochs, Json),
            };
            StateDict.Save(model, path, metadata);
            Directory.Delete(runFolder, recursive: true);
            return new PretrainedModel(model, modelName, dataSource, result.Epochs, path, FromCache: false);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The cache file for a model, data source, recipe and dataset sizes (see the type's remarks).</summary>
    /// <param name="cacheFolder">The cache folder.</param>
    /// <param name="modelName">The model name.</param>
    /// <param name="dataSource">The data source.</param>
    /// <param name="recipe">The recipe.</param>
    /// <param name="trainCount">Training examples.</param>
    /// <param name="testCount">Test examples.</param>
    public static string CachePath(string cacheFolder, string modelName, string dataSource, TrainingOptions recipe, long trainCount, long testCount)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var text = string.Create(CultureInfo.InvariantCulture, $"{modelName}\n{recipe.Fingerprint()}\n{dataSource}\n{trainCount}\n{testCount}");
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
        return Path.GetFullPath(Path.Combine(cacheFolder, $"{modelName}.{dataSource}.{key}.safetensors"));
    }

    private static nn.Module<Tensor, Tensor> Build(Func<nn.Module<Tensor, Tensor>> factory, TrainingOptions recipe)
    {
        manual_seed(recipe.Seed);
        var model = factory() ?? throw new ArgumentException("The factory returned null.", nameof(factory));
        if (recipe.Device is { } device && !ModelDevice.Of(model).SameAs(device))
        {
            model.to(device);
        }

        return model;
    }

    private static IReadOnlyList<EpochRecord> ReadHistory(string path)
    {
        using var reader = SafeTensorsReader.Open(path);
        if (!reader.Metadata.TryGetValue("format", out var format) || format != FormatName || !reader.Metadata.TryGetValue("history", out var json))
        {
            throw new SparsityFormatException(path, $"this is not a Sparsity pre-trained cache file (format '{FormatName}' with a history).");
        }

        try
        {
            var history = JsonSerializer.Deserialize<List<EpochRecord>>(json, Json);
            return history is { Count: > 0 } ? history : throw new SparsityFormatException(path, "the history is empty.");
        }
        catch (JsonException e)
        {
            throw new SparsityFormatException(path, $"the history metadata is not valid JSON ({e.Message}).", e);
        }
    }

    private static void CheckName(string name, string parameter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, parameter);
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            throw new ArgumentException($"'{name}' may hold only ASCII letters, digits, '.', '-' and '_' (it becomes part of a file name).", parameter);
        }
    }
}
