#:project ../../src/Sparsity.Core/Sparsity.Core.csproj
#:package libtorch-cpu-linux-x64
#:property PublishAot=false
using Sparsity;
using Sparsity.Analysis;
using static TorchSharp.torch;

// %% [markdown]
// # How sure are we that two masks agree?
//
// Two pruning methods keep 10 % of a network's weights each. They share some kept weights. Is that
// agreement more than chance? If both kept positions at random, the number they share would follow a
// **hypergeometric** distribution: drawing `k_B` positions out of `n` of which `k_A` are "successes".
// This walkthrough builds two masks whose scores are correlated, computes the overlap per layer and in
// total, and asks the hypergeometric tail how surprising it is — with a per-layer (stratified) null,
// because layers keep different densities.
//
// Run it: `dotnet run samples/notebooks/overlap-statistics.cs` (set `SPARSITY_SMOKE=1` for a tiny run).

// %%
var smoke = Environment.GetEnvironmentVariable("SPARSITY_SMOKE") == "1";
var scale = smoke ? 8 : 1;
manual_seed(0);

// A ResNet-20-sized set of layers (name, weight count), scaled down in smoke mode.
(string Name, long Count)[] layers =
[
    ("conv1.weight", 432 / scale), ("layer1.0.conv1.weight", 2304 / scale), ("layer2.0.conv1.weight", 4608 / scale),
    ("layer2.0.conv2.weight", 9216 / scale), ("layer3.0.conv1.weight", 18432 / scale), ("layer3.0.conv2.weight", 36864 / scale),
];
Console.WriteLine($"{layers.Length} layers, {layers.Sum(l => l.Count):N0} weights");

// %% [markdown]
// Method A scores every weight with a standard normal; method B sees the same score plus independent
// noise of the same size (correlation ½). Each keeps the top 10 % globally.

// %%
var a = new List<KeyValuePair<string, Tensor>>();
var b = new List<KeyValuePair<string, Tensor>>();
foreach (var (name, count) in layers)
{
    var shared = randn(count);
    a.Add(KeyValuePair.Create(name, shared.abs()));
    b.Add(KeyValuePair.Create(name, (shared + randn(count)).abs()));
}
using var scoresA = new ScoreSet(a);
using var scoresB = new ScoreSet(b);
var allocation = new GlobalAllocation();
using var maskA = allocation.Allocate(scoresA, sparsity: 0.9);
using var maskB = allocation.Allocate(scoresB, sparsity: 0.9);
Console.WriteLine(maskA);
Console.WriteLine(maskB);

// %% [markdown]
// ## Overlap per layer, with the chance level and its significance
//
// `overlap` is |A ∧ B| / |B|; `chance` is what two independent random masks with the same per-layer
// counts would share on average (k_A / n). `log10 p` is the exact upper tail P(X ≥ observed) of the
// hypergeometric distribution; the total row combines the layers under the stratified null.

// %%
var report = OverlapReport.Create(maskA, maskB, new StratifiedOverlapNull());
Console.WriteLine(report.ToMarkdown());

// %% [markdown]
// ## Masks of 10⁸ weights
//
// The exact tail sums terms of the hypergeometric pmf; for populations of 10⁸ and more the library uses
// bounds and approximations within stated domains. Here: 10⁸ weights, both masks keep 10⁷, and they share
// 1.001 million (chance: 1 million). A 0.1 % excess is about one standard deviation at this size.

// %%
long n = 100_000_000, kept = 10_000_000;
foreach (var shared in new long[] { 1_001_000, 1_005_000, 1_010_000 })
{
    var moments = Hypergeometric.Moments(n, kept, kept);
    Console.WriteLine($"shared {shared:N0}: z = {moments.ZScore(shared),6:F2}, log10 P(X ≥ shared) = {Hypergeometric.Log10Survival(n, kept, kept, shared),9:F2}");
}
