// The run here takes well under a second; it uses the default cancellation token.
#pragma warning disable xUnit1051

using System.Security.Cryptography;
using System.Text;
using Sparsity.Tests.Fuzzing;
using Sparsity.Training;
using TorchSharp;
using static TorchSharp.torch;
using static Sparsity.Tests.Training.TrainingFixtures;

namespace Sparsity.Tests.Training;

/// <summary>
/// Mutation fuzzing of training checkpoints (see <see cref="FileFuzzer"/>; <c>SPARSITY_FUZZ_ITERATIONS=10000</c> for
/// the full run, recorded in docs/core.md). Every corrupted checkpoint is rejected with
/// <see cref="SparsityFormatException"/> or restores exactly the original's metadata, weights, buffers and momentum.
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class TrainingCheckpointFuzzTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sparsity-trainfuzz-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Describe(string path)
    {
        var info = TrainingCheckpoint.Read(path);
        using var model = Mlp(99);
        TrainingCheckpoint.LoadModel(model, path);
        var named = model.named_parameters().ToList();
        using var optimizer = optim.SGD(named.Select(p => p.parameter), 0.1, 0.9);
        TrainingCheckpoint.LoadMomentum(path, named.Select(p => p.name).ToList(), optimizer, CPU);
        var text = new StringBuilder($"{info.Epoch}/{info.Epochs}/{info.Seed}/{info.OptionsFingerprint}/{string.Join(";", info.History)}|");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, t) in model.state_dict())
        {
            hash.AppendData(Encoding.UTF8.GetBytes(key));
            hash.AppendData(t.cpu().contiguous().bytes);
        }

        foreach (var state in ((TorchSharp.Modules.OptimizerHelper)optimizer).state_dict().State)
        {
            if (state is TorchSharp.Modules.SGD.State { momentum_buffer: { } buffer })
            {
                hash.AppendData(buffer.cpu().contiguous().bytes);
            }
            else
            {
                hash.AppendData("none"u8);
            }
        }

        return text.Append(Convert.ToHexString(hash.GetHashAndReset())).ToString();
    }

    [Fact]
    public void MutatedTrainingCheckpointsAreRejectedWithTheFormatExceptionOrRestoredIdentically()
    {
        var folder = Path.Combine(_root, "run");
        using (var model = Mlp(5))
        {
            new Trainer().Train(model, Train, null, Fast(epochs: 1, folder: folder) with { Momentum = 0.9 });
        }

        var original = File.ReadAllBytes(Path.Combine(folder, TrainingCheckpoint.FileName));
        int n = FileFuzzer.Iterations;
        var (identical, rejected) = FileFuzzer.Run<SparsityFormatException>(original, FileFuzzer.MutateSafeTensors, Describe, n, seed: 19003);
        (identical + rejected).Should().Be(n);
        rejected.Should().BeGreaterThan(n / 2);
    }
}
