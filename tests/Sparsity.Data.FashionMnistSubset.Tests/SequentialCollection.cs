namespace Sparsity.Data.FashionMnistSubset.Tests;

/// <summary>Tests that read or set the SPARSITY_DATA environment variable run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SequentialCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "Sequential";
}
