#:project ../../src/Sparsity.Search/Sparsity.Search.csproj
#:project ../../src/Sparsity.Models/Sparsity.Models.csproj
#:project ../../src/Sparsity.Criteria/Sparsity.Criteria.csproj
#:package libtorch-cpu-linux-x64
#:property PublishAot=false
// Splits the jackpot search's cost against dense training into a per-step and a per-search part: dense epochs
// (library Trainer) and search epochs (MaskSearcher, short restriction, 90 % magnitude mask) of 20 and of 60 steps
// on random 1×28×28 data, interleaved (dense 20, search 20, dense 60, search 60) and repeated; per step = (median
// of 60 − median of 20) / 40, per search = median of 20 − 20 × per step. One libtorch thread.
//
// OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE dotnet run -c Release benchmarks/sweeps/search-step-split.cs -- MODEL BATCH REPEATS
// (Release matters: the C# score step and selection are several times slower unoptimised.)
using System.Diagnostics;
using Sparsity;
using Sparsity.Criteria;
using Sparsity.Data;
using Sparsity.Models;
using Sparsity.Search;
using Sparsity.Training;
using static TorchSharp.torch;

string model = args.Length > 0 ? args[0] : "lenet300";
int batch = args.Length > 1 ? int.Parse(args[1]) : 128;
int repeats = args.Length > 2 ? int.Parse(args[2]) : 11;
set_num_threads(1);
manual_seed(0);
using var network = ReferenceModels.Create(model, inputChannels: 1, classCount: 10);
using var short20 = Data(20);
using var long60 = Data(60);
var parameters = new ParameterSelector(new MaskSearchOptions().Parameters).Select(network);
using var initial = new CriterionMaskInitializer(new MagnitudeCriterion(), new GlobalAllocation(), 0.9).Initialize(network, parameters, []);

Dense(short20); Search(short20); Dense(long60); Search(long60); // warm-up
var (dense20, search20, dense60, search60) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
for (int i = 0; i < repeats; i++)
{
    dense20.Add(Time(() => Dense(short20)));
    search20.Add(Time(() => Search(short20)));
    dense60.Add(Time(() => Dense(long60)));
    search60.Add(Time(() => Search(long60)));
}

double denseStep = (Median(dense60) - Median(dense20)) / 40, searchStep = (Median(search60) - Median(search20)) / 40;
Console.WriteLine($"{model} batch {batch}, {repeats} repeats: dense 20 / 60 steps {Median(dense20):F1} / {Median(dense60):F1} ms, " +
    $"search {Median(search20):F1} / {Median(search60):F1} ms; per step dense {denseStep:F3} ms, search {searchStep:F3} ms " +
    $"({searchStep / denseStep:F3}x); per search dense {Median(dense20) - (20 * denseStep):F1} ms, search {Median(search20) - (20 * searchStep):F1} ms; " +
    $"20-step ratio {Median(search20) / Median(dense20):F3}, 60-step ratio {Median(search60) / Median(dense60):F3}");

TensorDataset Data(int batches)
{
    var generator = new Generator(1);
    using var x = randn(new long[] { batches * batch, 1, 28, 28 }, generator: generator);
    using var y = randint(0, 10, new long[] { batches * batch }, generator: generator);
    return new TensorDataset(x, y, 10);
}

void Dense(TensorDataset data) => new Trainer().Train(network, data, null, TrainingOptions.ReferenceRecipe with { Epochs = 1, BatchSize = batch });

void Search(TensorDataset data)
{
    using var result = new MaskSearcher(new MaskSearchOptions { Epochs = 1, BatchSize = batch, EvaluateEveryEpoch = false }).Search(network, initial, data);
}

static double Time(Action action)
{
    var watch = Stopwatch.StartNew();
    action();
    return watch.Elapsed.TotalMilliseconds;
}

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
