namespace Sparsity.Structured;

/// <summary>Options of <see cref="ChannelDependencyDiscovery"/>.</summary>
public sealed record ChannelDiscoveryOptions
{
    /// <summary>Shape of the probe input, batch dimension first (batch must be 1); channels on dimension 1.
    /// Small spatial sizes keep discovery fast. Default [1, 3, 32, 32].</summary>
    public IReadOnlyList<long> InputShape { get; init; } = [1, 3, 32, 32];

    /// <summary>Probes evaluated in one forward pass (one batch element each). Default 256; 1 to 4096.</summary>
    public int ProbeBatchSize { get; init; } = 256;

    /// <summary>Seed of the random probe input (discovery is deterministic for a seed). Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>When true (default), every removable group is checked by removing its first channel physically and
    /// comparing the logits with the channel-masked model; a group that fails is marked not removable.</summary>
    public bool VerifyGroups { get; init; } = true;

    /// <summary>Largest accepted |compact − masked| / (1 + max |masked|) in the check. Default 1e-4; (0, 1).</summary>
    public double VerificationTolerance { get; init; } = 1e-4;

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (InputShape is null || InputShape.Count < 2 || InputShape[0] != 1 || InputShape.Any(d => d < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(InputShape), InputShape is null ? "null" : $"[{string.Join(", ", InputShape)}]",
                "InputShape must have at least 2 dimensions, batch 1 first, every dimension ≥ 1 (e.g. [1, 3, 32, 32]).");
        }

        if (ProbeBatchSize is < 1 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(ProbeBatchSize), ProbeBatchSize, "ProbeBatchSize must be in [1, 4096].");
        }

        if (!(VerificationTolerance > 0 && VerificationTolerance < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(VerificationTolerance), VerificationTolerance, "VerificationTolerance must be in (0, 1).");
        }
    }
}
