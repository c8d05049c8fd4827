namespace Sparsity.LotteryVerification.Tests;

/// <summary>Tests that touch TorchSharp's global state (RNG seed, default dtype) run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SequentialCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "Sequential";
}
