using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sparsity.IO;
using Sparsity.Search.Tickets;
using Sparsity.Tests.Fuzzing;
using static TorchSharp.torch;

namespace Sparsity.Search.Tests.Tickets;

/// <summary>
/// Ticket files and iterative-pruning state files: validation against the layer budget, the previous generation, and
/// mutation fuzzing (<see cref="FileFuzzer"/>; <c>SPARSITY_FUZZ_ITERATIONS=10000</c> for the full run, recorded in
/// docs/core.md). Every corrupted file is rejected with <see cref="SparsityFormatException"/> or read identically.
/// </summary>
[Collection(SequentialCollection.Name)]
public sealed class TicketCheckpointFuzzTests : IDisposable
{
    private readonly string _folder = TicketFixtures.TempFolder();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static LevelRecord Record(int level, double fraction, MaskSet mask) => new()
    {
        Level = level,
        Fraction = fraction,
        Accepted = true,
        KeptCount = mask.KeptCount,
        TotalCount = mask.TotalCount,
        Layers = mask.Layers,
        Epochs = [new EpochResult(1, 71.5, 0.25, 0.1)],
        TestAccuracy = 71.5,
        Seconds = 0.25,
    };

    /// <summary>Writes a state file (dense level 0 and one pruned level) and a ticket; returns the model and its parameters.</summary>
    private (nn.Module<Tensor, Tensor> Model, IReadOnlyList<PrunableParameter> Parameters, MaskSet Mask) WriteFiles(int ladderIndex = 0)
    {
        var model = TicketFixtures.Mlp(3);
        var parameters = new ParameterSelector().Select(model);
        using var dense = MaskSet.Dense(parameters);
        manual_seed(5);
        var mask = new MaskSet(parameters.Select(p => KeyValuePair.Create(p.Name, rand(p.Shape).gt(0.4).DetachFromDisposeScope())).ToList());
        using var rewind = ModelState.Capture(model);
        using (no_grad())
        {
            foreach (var p in model.parameters())
            {
                p.mul_(1.5);
            }
        }

        using var trained = ModelState.Capture(model);
        var state = new RunState { Rewind = "epoch 1", Fractions = [0.2, 0.1], LadderIndex = ladderIndex, History = [Record(0, 0.0, dense), Record(1, 0.2, mask)] };
        TicketCheckpoint.SaveState(_folder, state, mask, rewind, trained);
        TicketCheckpoint.SaveTicket(Path.Combine(_folder, TicketCheckpoint.TicketFileName(1)), mask, rewind, Record(1, 0.2, mask));
        return (model, parameters, mask);
    }

    private static void Hash(IncrementalHash hash, string name, Tensor t)
    {
        hash.AppendData(Encoding.UTF8.GetBytes(name + string.Join(",", t.shape) + t.dtype));
        hash.AppendData(t.cpu().contiguous().bytes);
    }

    private static string DescribeState(string path, nn.Module model, IReadOnlyList<PrunableParameter> parameters)
    {
        var (state, mask, rewind, trained) = TicketCheckpoint.LoadStateFile(path, model, parameters, CPU);
        using var _m = mask;
        using var _r = rewind;
        using var _t = trained;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (n, t) in mask.Entries.Concat(rewind?.Tensors ?? new Dictionary<string, Tensor>()).Concat(trained.Tensors))
        {
            Hash(hash, n, t);
        }

        return JsonSerializer.Serialize(state, TicketCheckpoint.Json) + Convert.ToHexString(hash.GetHashAndReset());
    }

    private static string DescribeTicket(string path)
    {
        using var model = TicketFixtures.Mlp(99);
        using var mask = TicketCheckpoint.Load(model, path);
        var record = TicketCheckpoint.ReadRecord(path);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (n, t) in mask.Entries.Concat(model.state_dict()))
        {
            Hash(hash, n, t);
        }

        return JsonSerializer.Serialize(record, TicketCheckpoint.Json) + Convert.ToHexString(hash.GetHashAndReset());
    }

    [Fact]
    public void AStateWhoseMaskBreaksTheLayerBudgetIsAFormatError()
    {
        var (model, parameters, mask) = WriteFiles();
        using var _m = model;
        using var _k = mask;
        var path = Path.Combine(_folder, TicketCheckpoint.StateFileName);
        var read = () => DescribeState(path, model, parameters);
        read.Should().NotThrow();

        // One more kept weight than the accepted level's record says, written with a valid checksum.
        using var more = mask.Clone();
        var flat = more[parameters[0].Name].view(-1);
        flat[flat.logical_not().nonzero()[0, 0]] = true;
        using var dense = MaskSet.Dense(parameters);
        using var rewind = ModelState.Capture(model);
        var state = new RunState { Rewind = "epoch 1", Fractions = [0.2], History = [Record(0, 0.0, dense), Record(1, 0.2, mask)] };
        TicketCheckpoint.SaveState(_folder, state, more, rewind, rewind);
        read.Should().Throw<SparsityFormatException>().WithMessage($"{path}*layer budget*{parameters[0].Name}*");

        state.LadderIndex = 7;
        TicketCheckpoint.SaveState(_folder, state, mask, rewind, rewind);
        read.Should().Throw<SparsityFormatException>().WithMessage("*ladder index 7*");
    }

    [Fact]
    public void ACorruptNewestStateFallsBackToThePreviousGenerationAndSaysSo()
    {
        var (model, parameters, mask) = WriteFiles(ladderIndex: 0);
        mask.Dispose();
        model.Dispose();
        (model, parameters, mask) = WriteFiles(ladderIndex: 1);
        using var _m = model;
        using var _k = mask;
        var path = Path.Combine(_folder, TicketCheckpoint.StateFileName);
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0x10; // one flipped bit in the newest generation's data
        File.WriteAllBytes(path, bytes);
        var log = new WarningLog<TicketCheckpointFuzzTests>();
        var loaded = TicketCheckpoint.LoadState(_folder, model, parameters, CPU, log)!.Value;
        using (loaded.Mask)
        using (loaded.Trained)
        using (loaded.Rewind)
        {
            loaded.State.LadderIndex.Should().Be(0, "the previous generation was used");
        }

        log.Messages.Should().ContainSingle().Which.Should().Contain("previous generation");
    }

    [Fact]
    public void MutatedStateFilesAreRejectedWithTheFormatExceptionOrReadIdentically()
    {
        var (model, parameters, mask) = WriteFiles();
        using var _m = model;
        using var _k = mask;
        var original = File.ReadAllBytes(Path.Combine(_folder, TicketCheckpoint.StateFileName));
        int n = FileFuzzer.Iterations;
        var (identical, rejected) = FileFuzzer.Run<SparsityFormatException>(original, FileFuzzer.MutateSafeTensors,
            p => DescribeState(p, model, parameters), n, seed: 19004);
        (identical + rejected).Should().Be(n);
        rejected.Should().BeGreaterThan(n / 2);
    }

    [Fact]
    public void MutatedTicketFilesAreRejectedWithTheFormatExceptionOrReadIdentically()
    {
        var (model, _, mask) = WriteFiles();
        using var _m = model;
        using var _k = mask;
        var original = File.ReadAllBytes(Path.Combine(_folder, TicketCheckpoint.TicketFileName(1)));
        int n = FileFuzzer.Iterations;
        var (identical, rejected) = FileFuzzer.Run<SparsityFormatException>(original, FileFuzzer.MutateSafeTensors, DescribeTicket, n, seed: 19005);
        (identical + rejected).Should().Be(n);
        rejected.Should().BeGreaterThan(n / 2);
    }
}
