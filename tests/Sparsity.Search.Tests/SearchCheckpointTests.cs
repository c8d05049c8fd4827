using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sparsity.Data;
using Sparsity.IO;
using Sparsity.Tests.Fuzzing;
using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests;

/// <summary>
/// Search checkpoints cannot be silently wrong: checksum, validation of every field, the previous generation, and
/// the non-finite-loss report. The fuzz test runs <see cref="FileFuzzer.Iterations"/> mutations
/// (<c>SPARSITY_FUZZ_ITERATIONS=10000</c> for the full run, recorded in docs/core.md).
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class SearchCheckpointTests
{
    private static readonly MaskSearchOptions Quick = new() { Epochs = 2, BatchSize = 32, EvaluationBatchSize = 500 };

    /// <summary>A 1-of-2-epochs checkpoint of a ConvBn search (buffers included); the model holds the pre-trained weights.</summary>
    private static (nn.Module<Tensor, Tensor> Model, TensorDataset Train, MaskSearchOptions Options, string Path) Checkpointed()
    {
        var model = Fixtures.ConvBn(5);
        var train = Fixtures.Teacher(160, 1, [1, 6, 6]);
        Fixtures.Pretrain(model, train, 1);
        var pretrained = Fixtures.State(model);
        using var initial = Fixtures.Magnitude(model, 0.8);
        var options = Quick with { Epochs = 2, ProgressInterval = 1, CheckpointFolder = Fixtures.TempFolder() };
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Epoch == 2)
            {
                cts.Cancel(); // interrupted in epoch 2: the checkpoint holds epoch 1 of 2
            }
        });
        var run = () => new MaskSearcher(options).Search(model, initial, train, null, progress, cts.Token);
        run.Should().Throw<OperationCanceledException>();

        Fixtures.Load(model, pretrained);
        return (model, train, options, MaskSearcher.CheckpointPath(options.CheckpointFolder!));
    }

    /// <summary>Rewrites a checkpoint with edited metadata or tensors and a recomputed (valid) checksum.</summary>
    private static void Rewrite(string path, Func<JsonNode, JsonNode>? meta = null, Action<Dictionary<string, Tensor>>? tensors = null)
    {
        Dictionary<string, string> metadata;
        var all = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (var reader = SafeTensorsReader.Open(path))
        {
            metadata = reader.Metadata.Where(e => e.Key != SafeTensorsReader.ChecksumKey).ToDictionary(e => e.Key, e => e.Value);
            foreach (var info in reader.Tensors)
            {
                all[info.Name] = reader.ReadTensor(info.Name);
            }
        }

        if (meta is not null)
        {
            metadata["sparsity.search"] = meta(JsonNode.Parse(metadata["sparsity.search"])!).ToJsonString();
        }

        tensors?.Invoke(all);
        SafeTensorsWriter.WriteWithChecksum(path, all, metadata, keepPrevious: false);
        foreach (var t in all.Values)
        {
            t.Dispose();
        }
    }

    private static SearchState Read(string path, nn.Module model, MaskSearchOptions options)
    {
        var names = SearchCheckpoint.ReadNames(path);
        var byName = Fixtures.Parameters(model).ToDictionary(p => p.Name);
        return SearchCheckpoint.Read(path, options, model, names.Select(n => byName[n]).ToList(), CPU);
    }

    [Fact]
    public void OutOfRangeFieldsAndABrokenLayerBudgetAreFormatErrorsNamingTheFile()
    {
        var (model, train, options, path) = Checkpointed();
        using var _m = model;
        using var _t = train;
        var good = File.ReadAllBytes(path);
        var read = () => Read(path, model, options).Dispose();
        read.Should().NotThrow();

        (Func<JsonNode, JsonNode>? Meta, Action<Dictionary<string, Tensor>>? Tensors, string Message)[] cases =
        [
            (m => { m["EpochsDone"] = 99; return m; }, null, "*history holds 1 epochs but 99 are done*"),
            (m => { m["EpochsDone"] = 99; m["History"] = new JsonArray(Enumerable.Range(0, 99).Select(i => { var h = m["History"]![0]!.DeepClone(); h["Epoch"] = i + 1; return (JsonNode?)h; }).ToArray()); return m; }, null, "*99 epochs done*"),
            (m => { m["EpochsDone"] = -5; return m; }, null, "*negative*"),
            (m => { m["History"] = new JsonArray(); return m; }, null, "*history holds 0 epochs*"),
            (m => { m["CountHits"] = -1; return m; }, null, "*negative selection counters*"),
            (m => { m["Deltas"]!["fc1.weight"] = -1.0; return m; }, null, "*band width*"),
            (null, t => { t["fc1.weight_mask"].view(-1)[t["fc1.weight_mask"].view(-1).logical_not().nonzero()[0, 0]] = true; }, "*'fc1.weight' keeps*budget*"),
            (null, t => { t["score.fc1.weight"] = t["score.fc1.weight"].to(ScalarType.Float64); }, "*score.fc1.weight*Float64*"),
            (null, t => { t["score.fc1.weight"][0, 0] = float.NaN; }, "*score.fc1.weight*NaN*"),
            (null, t => { t["buffer.bn.running_var"] = ones(5); }, "*buffer.bn.running_var*"),
            (null, t => { t["extra"] = ones(1); }, "*unexpected tensor 'extra'*"),
            (null, t => { t.Remove("initial.fc1.weight"); }, "*missing*initial.fc1.weight*"),
        ];
        foreach (var (meta, tensors, message) in cases)
        {
            File.WriteAllBytes(path, good);
            Rewrite(path, meta, tensors);
            read.Should().Throw<SparsityFormatException>(message).WithMessage($"{path}*{message.TrimStart('*')}").Which.FilePath.Should().Be(path);
        }

        // An edit without a recomputed checksum is caught by the checksum.
        var text = Encoding.Latin1.GetString(good);
        var edited = text.Replace("EpochsDone\\\":1", "EpochsDone\\\":0"); // inside the escaped metadata string
        edited.Should().NotBe(text);
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(edited));
        read.Should().Throw<SparsityFormatException>().WithMessage("*checksum*");
    }

    [Fact]
    public void ACorruptNewestCheckpointFallsBackToThePreviousGenerationAndTheRunEndsTheSame()
    {
        var model = Fixtures.ConvBn(5);
        using var _m = model;
        using var train = Fixtures.Teacher(160, 1, [1, 6, 6]);
        Fixtures.Pretrain(model, train, 1);
        var pretrained = Fixtures.State(model);
        using var initial = Fixtures.Magnitude(model, 0.8);
        var options = Quick with { Epochs = 3 };
        using var uninterrupted = new MaskSearcher(options with { CheckpointFolder = Fixtures.TempFolder() }).Search(model, initial, train);

        Fixtures.Load(model, pretrained);
        var folder = Fixtures.TempFolder();
        using (new MaskSearcher(options with { Epochs = 2, CheckpointFolder = folder }).Search(model, initial, train))
        {
        }

        // The run was set up for 3 epochs: rewrite nothing, just truncate the newest (epoch 2) generation.
        var path = MaskSearcher.CheckpointPath(folder);
        File.Exists(SafeTensorsReader.PreviousGenerationPath(path)).Should().BeTrue();
        Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);

        using var fresh = Fixtures.ConvBn(77);
        Fixtures.Load(fresh, pretrained);
        var log = new WarningLog<MaskSearcher>();
        // Epochs = 2 in the interrupted run's fingerprint; resume it with the same options.
        using var resumed = new MaskSearcher(options with { Epochs = 2, CheckpointFolder = folder }, log).Resume(fresh, train);
        log.Messages.Should().ContainSingle().Which.Should().Contain("previous generation");
        resumed.History.Should().HaveCount(2);

        Fixtures.Load(model, pretrained);
        using var twoEpochs = new MaskSearcher(options with { Epochs = 2, CheckpointFolder = Fixtures.TempFolder() }).Search(model, initial, train);
        resumed.Masks.Equals(twoEpochs.Masks).Should().BeTrue("resuming from epoch 1 repeats epoch 2 bit for bit");
        uninterrupted.History.Should().HaveCount(3);
    }

    [Fact]
    public void ANonFiniteLossIsReportedAtTheBatchWhereItHappens()
    {
        var model = Fixtures.Mlp(3);
        using var _m = model;
        using var clean = Fixtures.Teacher(256, 1, [20]);
        using var inputs = clean.Inputs.clone();
        inputs[77, 3] = float.NaN; // example 77 poisons the batch it lands in
        using var train = new TensorDataset(inputs, clean.Labels, 4);
        using var initial = Fixtures.Magnitude(model, 0.8);
        var options = Quick with { Epochs = 2, Seed = 4 };

        // Independent route: where does example 77 land in epoch 1's shuffle (seed Seed·1000003 + 0)?
        long expected = -1, index = 0;
        foreach (var batch in train.Batches(options.BatchSize, CPU, shuffleSeed: options.Seed * 1000003L))
        {
            using (batch)
            {
                if (expected < 0 && batch.Inputs.isnan().any().item<bool>())
                {
                    expected = index;
                }
            }

            index++;
        }

        expected.Should().BeGreaterThan(0);
        int steps = 0;
        var searcher = new MaskSearcher(options) { StepObserver = (_, _) => steps++ };
        var act = () => searcher.Search(model, initial, train).Dispose();
        act.Should().Throw<InvalidOperationException>().WithMessage($"*epoch 1, batch {expected} *");
        steps.Should().Be((int)expected, "the search stops at the bad batch, before updating anything with it");
    }

    private static string Describe(SearchState state, nn.Module model)
    {
        var text = new StringBuilder($"{state.EpochsDone}|{string.Join(";", state.History)}|{state.PriorStatistics}|");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string name, Tensor t)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name + string.Join(",", t.shape) + t.dtype));
            hash.AppendData(t.cpu().contiguous().bytes);
        }

        foreach (var (n, t) in state.Masks.Entries.Concat(state.InitialMasks.Entries).Concat(state.Scores.OrderBy(e => e.Key)).Concat(state.Momentum.OrderBy(e => e.Key)))
        {
            Add(n, t);
        }

        foreach (var (n, tracker) in state.Trackers.OrderBy(e => e.Key))
        {
            text.Append($"{n}:{tracker.ThresholdValue}:{tracker.Delta:R};");
        }

        foreach (var (n, t) in model.named_buffers())
        {
            Add(n, t);
        }

        return text.Append(Convert.ToHexString(hash.GetHashAndReset())).ToString();
    }

    [Fact]
    public void MutatedSearchCheckpointsAreRejectedWithTheFormatExceptionOrReadIdentically()
    {
        var (model, train, options, path) = Checkpointed();
        using var _m = model;
        using var _t = train;
        var original = File.ReadAllBytes(path);
        int n = FileFuzzer.Iterations;
        var (identical, rejected) = FileFuzzer.Run<SparsityFormatException>(original, FileFuzzer.MutateSafeTensors, p =>
        {
            using var state = Read(p, model, options);
            return Describe(state, model);
        }, n, seed: 19002);
        (identical + rejected).Should().Be(n);
        rejected.Should().BeGreaterThan(n / 2);
    }

    private sealed class SyncProgress(Action<SearchProgress> report) : IProgress<SearchProgress>
    {
        public void Report(SearchProgress value) => report(value);
    }
}
