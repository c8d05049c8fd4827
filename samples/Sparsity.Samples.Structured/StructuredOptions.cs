using System.Globalization;
using Sparsity.Search;
using Sparsity.Structured;

namespace Sparsity.Samples.Structured;

/// <summary>Command-line options of the structured pruning sample.</summary>
internal sealed record StructuredOptions
{
    public string? Data { get; init; }
    public double[] Sparsities { get; init; } = [0.3, 0.5, 0.7];
    public string[] Methods { get; init; } = ["l1", "jackpot"];
    public int[] Seeds { get; init; } = [0];
    public int PretrainEpochs { get; init; } = 10;
    public int FinetuneEpochs { get; init; } = 10;
    public double FinetuneLearningRate { get; init; } = 0.01;
    public int SearchEpochs { get; init; } = 2;
    public int SearchStepsPerEpoch { get; init; }
    public bool RecalibrateBatchNorm { get; init; }
    public BatchNormPolicy SearchBatchNorm { get; init; } = new ChannelJackpotOptions().BatchNorm;
    public int TrainLimit { get; init; }
    public int TestLimit { get; init; }
    public int LatencyRepeats { get; init; } = 20;
    public int Threads { get; init; } = 1;
    public string Output { get; init; } = "results/structured";
    public string Json { get; init; } = "results/structured/structured-resnet20.json";

    public const string Help = """
        Structured channel pruning of ResNet-20 on Fashion-MNIST (Sparsity.Structured).
          --data DIR              full Fashion-MNIST folder (default: the embedded subset)
          --sparsity S [S ...]    channel sparsities (default 0.3 0.5 0.7)
          --methods M [M ...]     l1, jackpot (default both)
          --seeds N [N ...]       seeds of the jackpot search and fine-tuning (default 0)
          --pretrain-epochs N     dense pre-training epochs, reused from .cache/pretrained (default 10)
          --finetune-epochs N     fine-tuning epochs after compaction; 0 skips (default 10)
          --finetune-lr X         fine-tuning learning rate (default 0.01, cosine)
          --search-epochs N       channel jackpot search epochs (default 2)
          --search-batchnorm P    BatchNorm in the search: freeze, update or recalibrate (default: the library's)
          --recalibrate-bn        L1 only: re-estimate BatchNorm statistics on the training set before the
                                  accuracy without fine-tuning (the jackpot search does it by default)
          --search-steps N        steps per search epoch at most; 0 = all (default 0)
          --train-limit N         use the first N training images (default all)
          --test-limit N          use the first N test images (default all)
          --latency-repeats N     timed forward passes per latency (median; default 20)
          --threads N             libtorch threads (default 1)
          --out DIR               output folder (default results/structured)
          --json PATH             results JSON (default <out>/structured-resnet20.json)
          --smoke                 tiny run for CI (embedded data, 1 epoch, few steps)
        """;

    public static StructuredOptions? Parse(string[] args)
    {
        var o = new StructuredOptions();
        var jsonSet = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            List<string> Many()
            {
                var list = new List<string>();
                while (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    list.Add(args[++i]);
                }

                return list.Count > 0 ? list : throw new ArgumentException($"{args[i]} needs at least one value.");
            }

            static int Int(string s, string name) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : throw new ArgumentException($"{name} must be a non-negative integer, got '{s}'.");
            switch (args[i])
            {
                case "--help" or "-h": Console.WriteLine(Help); return null;
                case "--data": o = o with { Data = Next() }; break;
                case "--sparsity":
                    o = o with { Sparsities = Many().Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray() };
                    if (o.Sparsities.Any(s => !(s > 0 && s < 1))) throw new ArgumentException("--sparsity values must lie in (0, 1).");
                    break;
                case "--methods":
                    o = o with { Methods = Many().ToArray() };
                    if (o.Methods.Any(m => m is not ("l1" or "jackpot"))) throw new ArgumentException("--methods accepts l1 and jackpot.");
                    break;
                case "--seeds": o = o with { Seeds = Many().Select(s => Int(s, "--seeds")).ToArray() }; break;
                case "--pretrain-epochs": o = o with { PretrainEpochs = Math.Max(1, Int(Next(), "--pretrain-epochs")) }; break;
                case "--finetune-epochs": o = o with { FinetuneEpochs = Int(Next(), "--finetune-epochs") }; break;
                case "--finetune-lr": o = o with { FinetuneLearningRate = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--search-epochs": o = o with { SearchEpochs = Math.Max(1, Int(Next(), "--search-epochs")) }; break;
                case "--search-batchnorm":
                    o = o with
                    {
                        SearchBatchNorm = Next() switch
                        {
                            "freeze" => BatchNormPolicy.Freeze,
                            "update" => BatchNormPolicy.UpdateRunningStatistics,
                            "recalibrate" => BatchNormPolicy.RecalibrateAfter,
                            var v => throw new ArgumentException($"--search-batchnorm accepts freeze, update or recalibrate, got '{v}'."),
                        },
                    };
                    break;
                case "--recalibrate-bn": o = o with { RecalibrateBatchNorm = true }; break;
                case "--search-steps": o = o with { SearchStepsPerEpoch = Int(Next(), "--search-steps") }; break;
                case "--train-limit": o = o with { TrainLimit = Int(Next(), "--train-limit") }; break;
                case "--test-limit": o = o with { TestLimit = Int(Next(), "--test-limit") }; break;
                case "--latency-repeats": o = o with { LatencyRepeats = Math.Max(1, Int(Next(), "--latency-repeats")) }; break;
                case "--threads": o = o with { Threads = Math.Max(1, Int(Next(), "--threads")) }; break;
                case "--out": o = o with { Output = Next() }; break;
                case "--json": o = o with { Json = Next() }; jsonSet = true; break;
                case "--smoke":
                    o = o with { PretrainEpochs = 1, FinetuneEpochs = 1, SearchEpochs = 1, SearchStepsPerEpoch = 3, TrainLimit = 1024, TestLimit = 500, LatencyRepeats = 2, Sparsities = [0.5] };
                    break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'; --help lists the options.");
            }
        }

        return jsonSet ? o : o with { Json = Path.Combine(o.Output, "structured-resnet20.json") };
    }
}
