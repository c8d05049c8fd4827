namespace Sparsity.Criteria.Tests;

/// <summary>The test's cancellation token.</summary>
internal static class Test
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;
}
