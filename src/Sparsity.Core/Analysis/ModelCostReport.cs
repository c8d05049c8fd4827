namespace Sparsity.Analysis;

/// <summary>
/// Parameters, theoretical FLOPs and bytes of a model (dense, masked or compacted) for one input shape, as measured
/// by <see cref="ModelCost.Measure"/>. Report it next to measured latency: a mask lowers
/// <see cref="KeptParameters"/> and <see cref="KeptFlops"/> but not the time of dense kernels.
/// </summary>
/// <param name="InputShape">The input shape of the measured forward pass, batch dimension included.</param>
/// <param name="Layers">One row per Conv/Linear layer that ran, in the order they first ran.</param>
/// <param name="Parameters">Entries of every parameter tensor of the model (trainable or frozen).</param>
/// <param name="KeptParameters"><see cref="Parameters"/> minus the entries the mask prunes.</param>
/// <param name="StateBytes">
/// Bytes of every state-dict tensor (parameters and buffers) at its element size: the payload of a dense checkpoint.
/// </param>
/// <param name="UnobservedLayers">
/// Conv/Linear modules of the model that no forward hook saw: layers the forward pass does not use, or layers whose
/// parent calls <c>forward</c> directly instead of <c>call</c> (TorchSharp runs hooks only in <c>call</c>). Their
/// MACs are missing from <see cref="Layers"/>; an empty list means every Conv/Linear layer was counted.
/// </param>
public sealed record ModelCostReport(
    IReadOnlyList<long> InputShape,
    IReadOnlyList<LayerCost> Layers,
    long Parameters,
    long KeptParameters,
    long StateBytes,
    IReadOnlyList<string> UnobservedLayers)
{
    /// <summary>Dense MACs of all Conv/Linear layers for <see cref="InputShape"/>.</summary>
    public long MultiplyAccumulates => Layers.Sum(l => l.MultiplyAccumulates);

    /// <summary>MACs that involve kept weights only.</summary>
    public long KeptMultiplyAccumulates => Layers.Sum(l => l.KeptMultiplyAccumulates);

    /// <summary>Theoretical FLOPs of the dense model: 2 × <see cref="MultiplyAccumulates"/>.</summary>
    public long Flops => 2 * MultiplyAccumulates;

    /// <summary>Theoretical FLOPs with the mask: 2 × <see cref="KeptMultiplyAccumulates"/>.</summary>
    public long KeptFlops => 2 * KeptMultiplyAccumulates;
}
