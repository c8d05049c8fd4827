using TorchSharp;
using static TorchSharp.torch;

namespace Sparsity.LotteryVerification;

/// <summary>How the pruning attack chooses the weights it removes.</summary>
public enum RepruneMethod
{
    /// <summary>Global one-shot magnitude pruning: the smallest |W| among kept weights (ties by layer, then index).</summary>
    Magnitude,

    /// <summary>Uniformly random kept weights.</summary>
    Random,
}

/// <summary>
/// The attacks of Chen et al. (NeurIPS 2021, §4; docs/algorithms.md#attacks) as functions. Each changes the model's weights
/// and returns the attacker's mask; nothing else is touched. Masks name Conv/Linear weights of the model.
/// </summary>
public static class OwnershipAttacks
{
    /// <summary>
    /// Fine-tuning (or transfer) with the mask held fixed: binds the mask with Core's <see cref="MaskedModel"/>, runs the
    /// caller's training (so this library needs no trainer), then zeroes pruned weights again. The mask cannot change.
    /// </summary>
    /// <param name="model">The model (weights changed in place).</param>
    /// <param name="mask">The mask held fixed.</param>
    /// <param name="train">Training callback; call <see cref="MaskedModel.MaskGradients"/> before and <see cref="MaskedModel.Reapply"/> after each optimiser step.</param>
    /// <param name="parameters">Prunable parameters; every Conv/Linear weight when null.</param>
    /// <param name="cancellationToken">Passed to <paramref name="train"/>.</param>
    /// <exception cref="ArgumentException">The mask does not fit the model.</exception>
    public static void FineTuneWithFixedMask(
        nn.Module model, MaskSet mask, Action<MaskedModel, CancellationToken> train,
        IReadOnlyList<PrunableParameter>? parameters = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var byName = MaskArrays.Resolve(model, mask, parameters);
        var selected = mask.Names.Select(n => byName[n]).ToList();
        using (var masked = MaskedModel.Attach(model, mask, selected))
        {
            train(masked, cancellationToken);
            masked.Reapply();
        }

        // Disposal restores held dense values at pruned positions; the attacker's model keeps them at zero.
        mask.ApplyTo(model, selected);
    }

    /// <summary>
    /// One-shot pruning of a fraction of the remaining weights, globally over the mask's layers, without retraining
    /// (official <c>--evaluate-p p</c>, optionally <c>--evaluate-random</c>). Removes ⌊p · kept⌋ weights and zeroes them.
    /// </summary>
    /// <param name="model">The model (removed weights set to 0).</param>
    /// <param name="mask">The current mask (not modified).</param>
    /// <param name="fraction">p in [0, 1).</param>
    /// <param name="method">Magnitude or random.</param>
    /// <param name="seed">Seed of the random choice.</param>
    /// <param name="parameters">Prunable parameters; every Conv/Linear weight when null.</param>
    /// <returns>The attacker's mask.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is outside [0, 1).</exception>
    public static MaskSet Reprune(
        nn.Module model, MaskSet mask, double fraction, RepruneMethod method = RepruneMethod.Magnitude, int seed = 0,
        IReadOnlyList<PrunableParameter>? parameters = null)
    {
        if (!(fraction >= 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The pruning fraction must lie in [0, 1), for example 0.1.");
        }

        var byName = MaskArrays.Resolve(model, mask, parameters);
        var masks = mask.Names.Select(n => MaskArrays.Flat(mask[n])).ToList();
        var weights = mask.Names.Select(n => MaskArrays.FlatFloat(byName[n].Weight)).ToList();
        var kept = new List<(float Magnitude, int Layer, long Index)>();
        for (int li = 0; li < masks.Count; li++)
        {
            for (long i = 0; i < masks[li].Length; i++)
            {
                if (masks[li][i])
                {
                    kept.Add((Math.Abs(weights[li][i]), li, i));
                }
            }
        }

        int remove = (int)Math.Floor(fraction * kept.Count);
        IEnumerable<(float Magnitude, int Layer, long Index)> chosen;
        if (method == RepruneMethod.Magnitude)
        {
            chosen = kept.OrderBy(k => k.Magnitude).ThenBy(k => k.Layer).ThenBy(k => k.Index).Take(remove);
        }
        else
        {
            var random = new Random(seed);
            Shuffle(kept, remove, random);
            chosen = kept.Take(remove);
        }

        foreach (var (_, li, i) in chosen.ToList())
        {
            masks[li][i] = false;
        }

        return Commit(model, mask, byName, masks, revived: null, noiseStd: 0, seed);
    }

    /// <summary>
    /// Add-on attack (the paper's new ambiguity attack, Table 8): revive ⌊r · pruned⌋ uniformly chosen pruned positions of
    /// all mask layers with new weights drawn from N(0, σ²), without retraining.
    /// </summary>
    /// <param name="model">The model (revived weights written).</param>
    /// <param name="mask">The current mask (not modified).</param>
    /// <param name="rate">r in [0, 1]: fraction of the pruned positions revived.</param>
    /// <param name="noiseStd">σ ≥ 0 (official 0.1).</param>
    /// <param name="seed">Seed of positions and noise.</param>
    /// <param name="parameters">Prunable parameters; every Conv/Linear weight when null.</param>
    /// <returns>The attacker's mask.</returns>
    public static MaskSet AddOn(
        nn.Module model, MaskSet mask, double rate, double noiseStd = 0.1, int seed = 0, IReadOnlyList<PrunableParameter>? parameters = null)
    {
        if (!(rate >= 0 && rate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "The add-on rate must lie in [0, 1], for example 0.01.");
        }

        ValidateNoise(noiseStd);
        var byName = MaskArrays.Resolve(model, mask, parameters);
        var masks = mask.Names.Select(n => MaskArrays.Flat(mask[n])).ToList();
        var pruned = new List<(int Layer, long Index)>();
        for (int li = 0; li < masks.Count; li++)
        {
            for (long i = 0; i < masks[li].Length; i++)
            {
                if (!masks[li][i])
                {
                    pruned.Add((li, i));
                }
            }
        }

        int revive = (int)Math.Floor(rate * pruned.Count);
        var random = new Random(seed);
        Shuffle(pruned, revive, random);
        var revived = masks.Select(m => new bool[m.Length]).ToList();
        foreach (var (li, i) in pruned.Take(revive))
        {
            masks[li][i] = true;
            revived[li][i] = true;
        }

        return Commit(model, mask, byName, masks, revived, noiseStd, seed);
    }

    /// <summary>
    /// Overwrite attack (paper's <c>fake3</c>): embed a forged signature into the mask (for the QR scheme, a second code in
    /// the owner's region via <see cref="QrSignatureOptions.Placement"/>), give every newly kept weight a fresh N(0, σ²)
    /// value and zero every newly pruned one. The layer's kept count is preserved by the embedding's rebalance.
    /// </summary>
    /// <param name="model">The model (changed weights written).</param>
    /// <param name="mask">The current mask (not modified).</param>
    /// <param name="forged">The attacker's scheme.</param>
    /// <param name="noiseStd">σ ≥ 0 of the new weights (official 0.1).</param>
    /// <param name="seed">Seed of the embedding and the noise.</param>
    /// <param name="parameters">Prunable parameters; every Conv/Linear weight when null.</param>
    /// <returns>The attacker's signed mask and credential.</returns>
    public static SignedTicket Overwrite(
        nn.Module model, MaskSet mask, ISignatureScheme forged, double noiseStd = 0.1, int seed = 0, IReadOnlyList<PrunableParameter>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(forged);
        ValidateNoise(noiseStd);
        var byName = MaskArrays.Resolve(model, mask, parameters);
        var signed = forged.Embed(mask, seed);
        var masks = mask.Names.Select(n => MaskArrays.Flat(signed.Mask[n])).ToList();
        var revived = new List<bool[]>();
        for (int li = 0; li < masks.Count; li++)
        {
            var before = MaskArrays.Flat(mask[mask.Names[li]]);
            revived.Add(masks[li].Select((on, i) => on && !before[i]).ToArray());
        }

        using var committed = Commit(model, mask, byName, masks, revived, noiseStd, seed);
        return signed;
    }

    /// <summary>
    /// Forged claim (ambiguity): an attacker with a different key (or message) plans a credential against the owner's
    /// unchanged mask and claims it. Verifying the returned credential on the owner's model measures the false claim.
    /// </summary>
    /// <param name="forged">The attacker's scheme.</param>
    /// <param name="ownerMask">The owner's (signed) mask.</param>
    public static SignatureCredential ForgedClaim(ISignatureScheme forged, MaskSet ownerMask)
    {
        ArgumentNullException.ThrowIfNull(forged);
        return forged.Plan(ownerMask);
    }

    /// <summary>
    /// The paper's <c>fake1</c> ambiguity attack on V1 (Chen et al., NeurIPS 2021, §4.4, forged key masks): the attacker
    /// claims a key sub-mask drawn uniformly at random from the ticket's kept weights, with the owner's relative key
    /// density. A forged key should fail the V1 test that the true key passes: removing it from the ticket (the locked
    /// remainder) costs little accuracy, whereas removing the owner's key (chosen by |W| or path share) destroys the model.
    /// </summary>
    /// <param name="ticket">The ticket mask the attacker sees (not modified).</param>
    /// <param name="keyFraction">Relative key density n_s in (0, 1), for example the owner's 0.05.</param>
    /// <param name="seed">Seed of the random draw.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keyFraction"/> is outside (0, 1).</exception>
    public static KeyMaskSplit ForgedKeyMask(MaskSet ticket, double keyFraction, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (!(keyFraction > 0 && keyFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(keyFraction), keyFraction, "The relative key density must lie in (0, 1), for example 0.05.");
        }

        var random = new Random(seed);
        var entries = new List<KeyValuePair<string, Tensor>>();
        foreach (var name in ticket.Names)
        {
            var shape = ticket[name].shape;
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (long i = 0; i < values.LongLength; i++)
            {
                values[i] = (float)random.NextDouble();
            }

            using var flat = tensor(values);
            entries.Add(KeyValuePair.Create(name, flat.reshape(shape).clone()));
        }

        using var scores = new ScoreSet(entries); // owns the score tensors
        return KeyMaskSplitter.Split(ticket, scores, keyFraction);
    }

    private static MaskSet Commit(
        nn.Module model, MaskSet original, Dictionary<string, PrunableParameter> byName, List<bool[]> masks,
        List<bool[]>? revived, double noiseStd, int seed)
    {
        var noise = new Random(unchecked(seed * 7919) + 17);
        var entries = new List<KeyValuePair<string, Tensor>>();
        using var noGrad = no_grad();
        for (int li = 0; li < masks.Count; li++)
        {
            var name = original.Names[li];
            var shape = original[name].shape;
            var weight = byName[name].Weight;
            entries.Add(KeyValuePair.Create(name, MaskArrays.ToTensor(masks[li], shape, original.Device)));
            using var scope = NewDisposeScope();
            var keep = tensor(masks[li], ScalarType.Bool).reshape(shape).to(weight.device);
            if (revived is not null && revived[li].Any(r => r))
            {
                var values = new float[revived[li].Length];
                for (int i = 0; i < values.Length; i++)
                {
                    if (revived[li][i])
                    {
                        values[i] = (float)(noiseStd * Gaussian(noise));
                    }
                }

                var fresh = tensor(values).reshape(shape).to(weight.device).to(weight.dtype);
                var isNew = tensor(revived[li], ScalarType.Bool).reshape(shape).to(weight.device);
                weight.copy_(where(isNew, fresh, weight));
            }

            weight.mul_(keep);
        }

        return new MaskSet(entries);
    }

    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static void Shuffle<T>(List<T> items, int count, Random random)
    {
        for (int k = 0; k < count; k++)
        {
            int j = k + random.Next(items.Count - k);
            (items[k], items[j]) = (items[j], items[k]);
        }
    }

    private static void ValidateNoise(double noiseStd)
    {
        if (!(noiseStd >= 0) || double.IsInfinity(noiseStd))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseStd), noiseStd, "The noise standard deviation must be finite and ≥ 0, for example 0.1.");
        }
    }
}
