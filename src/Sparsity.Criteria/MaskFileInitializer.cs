using Sparsity.Data;
using static TorchSharp.torch;

namespace Sparsity.Criteria;

/// <summary>
/// An <see cref="IMaskInitializer"/> that loads a mask saved with <see cref="MaskSet.Save"/> (or by PyTorch
/// as <c>&lt;param&gt;_mask</c> tensors) and validates it against the model's prunable parameters.
/// </summary>
/// <remarks>
/// The scores are a two-level encoding of the mask: <b>1.0 for kept and 0.0 for pruned</b> weights (float32,
/// on the model's device). Lottery Jackpots initialises its scores as 1.0 / 0.99 (2021 code: 0.95) from a
/// magnitude mask; only the order of the two levels matters for a top-k search, so 1/0 is used here and a
/// searcher that needs other levels can map them.
/// </remarks>
/// <param name="path">The safetensors file.</param>
public sealed class MaskFileInitializer(string path) : IMaskInitializer
{
    /// <summary>The mask file.</summary>
    public string Path { get; } = string.IsNullOrWhiteSpace(path)
        ? throw new ArgumentException("A mask file path is required.", nameof(path))
        : path;

    /// <summary>Loads the mask onto the model's device; batches are ignored.</summary>
    /// <inheritdoc />
    /// <exception cref="ArgumentException">The file's masks do not match the parameters (names or shapes).</exception>
    /// <exception cref="SparsityFormatException">The file is not a valid mask file.</exception>
    public InitialMask Initialize(
        nn.Module model,
        IReadOnlyList<PrunableParameter> parameters,
        IEnumerable<Batch> batches,
        CancellationToken cancellationToken = default)
    {
        var device = ScoringSupport.ValidateParameters(model, parameters);
        cancellationToken.ThrowIfCancellationRequested();
        using var loaded = MaskSet.Load(Path, device);
        loaded.ValidateAgainst(parameters);
        var masks = new List<KeyValuePair<string, Tensor>>();
        var scores = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var p in parameters)
            {
                masks.Add(KeyValuePair.Create(p.Name, loaded[p.Name].clone().DetachFromDisposeScope()));
                scores.Add(KeyValuePair.Create(p.Name, loaded[p.Name].to(ScalarType.Float32).DetachFromDisposeScope()));
            }
        }
        catch
        {
            masks.ForEach(m => m.Value.Dispose());
            scores.ForEach(s => s.Value.Dispose());
            throw;
        }

        return new InitialMask(new ScoreSet(scores), new MaskSet(masks));
    }
}
