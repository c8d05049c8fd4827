using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification;

/// <summary>Reads signature bits back from a suspect's mask or weights (paper §A.5.4: <c>B = mask.sum((2,3)) &gt; 0</c>).</summary>
public static class SignatureReader
{
    /// <summary>The observed value at every bit position of <paramref name="credential"/>.</summary>
    /// <param name="suspect">The suspect's masks.</param>
    /// <param name="credential">The owner's credential.</param>
    /// <exception cref="ArgumentException">The suspect lacks the signed layer or has another shape.</exception>
    public static bool[] Read(MaskSet suspect, SignatureCredential credential)
    {
        ArgumentNullException.ThrowIfNull(suspect);
        ArgumentNullException.ThrowIfNull(credential);
        var mask = LayerOf(suspect, credential);
        return Read(mask, credential);
    }

    /// <summary>
    /// The masks a model's weights imply (kept = weight ≠ 0), for the parameters named by <paramref name="names"/>:
    /// what a verifier sees when it only has a suspect's weights.
    /// </summary>
    /// <param name="model">The suspect model.</param>
    /// <param name="names">Parameter names (state-dict keys) to read.</param>
    /// <exception cref="ArgumentException">The model has no such Conv/Linear weight.</exception>
    public static MaskSet MasksFromWeights(nn.Module model, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(names);
        var all = new ParameterSelector(new ParameterSelectorOptions { KeepFirstLayerDense = false, KeepLastLayerDense = false, IncludeConv3d = true }).Select(model)
            .ToDictionary(p => p.Name, StringComparer.Ordinal);
        var entries = new List<KeyValuePair<string, Tensor>>();
        foreach (var name in names)
        {
            if (!all.TryGetValue(name, out var p))
            {
                foreach (var e in entries)
                {
                    e.Value.Dispose();
                }

                throw new ArgumentException(
                    $"The model has no prunable weight '{name}'. Its weights: {string.Join(", ", all.Keys)}.", nameof(names));
            }

            using var scope = NewDisposeScope();
            var kept = p.Weight.detach().ne(0);
            entries.Add(KeyValuePair.Create(name, kept.MoveToOuterDisposeScope().DetachFromDisposeScope()));
        }

        return new MaskSet(entries);
    }

    internal static Tensor LayerOf(MaskSet suspect, SignatureCredential credential)
    {
        if (!suspect.Contains(credential.Layer))
        {
            throw new ArgumentException(
                $"The suspect has no layer '{credential.Layer}' (the credential's signed layer). Its layers: {string.Join(", ", suspect.Names)}.",
                nameof(suspect));
        }

        var mask = suspect[credential.Layer];
        if (!mask.shape.SequenceEqual(credential.LayerShape))
        {
            throw new ArgumentException(
                $"Layer '{credential.Layer}' has shape [{string.Join(", ", mask.shape)}] in the suspect but [{string.Join(", ", credential.LayerShape)}] in the credential.",
                nameof(suspect));
        }

        return mask;
    }

    internal static bool[] Read(Tensor mask, SignatureCredential credential)
    {
        var cells = credential.Granularity == SignatureGranularity.ChannelPair
            ? ChannelConnectivity.FromMask(mask).ToArray()
            : MaskArrays.Flat(mask);
        return credential.Bits.Select(b => cells[b.Position]).ToArray();
    }
}
