namespace Sparsity.Analysis;

/// <summary>
/// The cost of one Conv/Linear layer in one forward pass of the input shape given to <see cref="ModelCost.Measure"/>.
/// </summary>
/// <remarks>
/// A weight entry of a Conv/Linear layer takes part in one multiply–accumulate (MAC) per output position
/// (per sample for Linear; per sample and spatial output location for a convolution), so a layer performs
/// <c>MACs = output elements × weight elements ∕ output channels</c>, and an unstructured mask removes exactly the
/// MACs of its pruned entries: <c>kept MACs = output positions × kept weights</c>. FLOPs are counted as two per MAC
/// (one multiply, one add), the convention of Molchanov et al. (ICLR 2017, "Pruning Convolutional Neural Networks
/// for Resource Efficient Inference") and of Li et al. (ICLR 2017); biases, normalisation, activations, pooling and
/// additions are not counted (they are linear in the activations and small next to the convolutions).
/// </remarks>
/// <param name="Name">The module's name in the model (state-dict prefix, for example <c>layer1.0.conv1</c>).</param>
/// <param name="Kind">The layer's kind.</param>
/// <param name="Calls">How many times the layer ran in the measured forward pass (more than one when it is shared).</param>
/// <param name="OutputShape">The shape of the layer's output in its last call.</param>
/// <param name="WeightCount">Entries of the layer's weight tensor.</param>
/// <param name="KeptWeightCount">Entries kept by the mask (<see cref="WeightCount"/> when the layer is not masked).</param>
/// <param name="MultiplyAccumulates">MACs of the dense layer, summed over its calls.</param>
/// <param name="KeptMultiplyAccumulates">MACs that involve kept weights only, summed over its calls.</param>
public sealed record LayerCost(
    string Name,
    PrunableLayerKind Kind,
    int Calls,
    IReadOnlyList<long> OutputShape,
    long WeightCount,
    long KeptWeightCount,
    long MultiplyAccumulates,
    long KeptMultiplyAccumulates)
{
    /// <summary>Theoretical FLOPs of the dense layer: 2 × <see cref="MultiplyAccumulates"/>.</summary>
    public long Flops => 2 * MultiplyAccumulates;

    /// <summary>Theoretical FLOPs with the mask: 2 × <see cref="KeptMultiplyAccumulates"/>.</summary>
    public long KeptFlops => 2 * KeptMultiplyAccumulates;
}
