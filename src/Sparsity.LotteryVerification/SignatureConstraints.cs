namespace Sparsity.LotteryVerification;

/// <summary>Turns a credential's bits into forced weight positions (shared by both schemes).</summary>
internal static class SignatureConstraints
{
    /// <summary>
    /// Forced positions for <paramref name="credential"/>'s bits. An on channel pair forces one kernel weight: without
    /// <paramref name="priority"/> the first weight the ticket keeps, else one drawn with <paramref name="seed"/> (paper
    /// Algorithm 2); with a priority for the layer, the kept weight of highest priority, else the kernel's weight of
    /// highest priority (ties by index) — with |W| as priority, the weight that magnitude re-pruning removes last.
    /// </summary>
    internal static MaskConstraint FromCredential(MaskSet ticket, SignatureCredential credential, int seed, ScoreSet? priority = null)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(credential);
        var mask = SignatureReader.LayerOf(ticket, credential);
        var on = new List<long>();
        var off = new List<long>();
        if (credential.Granularity == SignatureGranularity.Weight)
        {
            foreach (var b in credential.Bits)
            {
                (b.Expected ? on : off).Add(b.Position);
            }
        }
        else
        {
            long kernel = MaskArrays.KernelSize(mask.shape);
            var values = MaskArrays.Flat(mask);
            var random = new Random(seed);
            float[]? order = priority is not null && priority.Contains(credential.Layer) ? MaskArrays.FlatFloat(priority[credential.Layer]) : null;
            if (order is not null && order.LongLength != values.LongLength)
            {
                throw new ArgumentException(
                    $"The priority of '{credential.Layer}' has {order.LongLength} values but the layer has {values.LongLength} weights.", nameof(priority));
            }

            foreach (var b in credential.Bits)
            {
                long start = b.Position * kernel;
                if (!b.Expected)
                {
                    for (long u = 0; u < kernel; u++)
                    {
                        off.Add(start + u);
                    }

                    continue;
                }

                if (order is not null)
                {
                    on.Add(Highest(order, values, start, kernel, keptOnly: true) ?? Highest(order, values, start, kernel, keptOnly: false)!.Value);
                    continue;
                }

                long keptAt = -1;
                for (long u = 0; u < kernel && keptAt < 0; u++)
                {
                    if (values[start + u])
                    {
                        keptAt = start + u;
                    }
                }

                // Paper Algorithm 2: a pair that must be connected but is not gets one randomly chosen kernel weight.
                on.Add(keptAt >= 0 ? keptAt : start + random.NextInt64(kernel));
            }
        }

        return new MaskConstraint(
            [KeyValuePair.Create(credential.Layer, (IReadOnlyCollection<long>)on)],
            [KeyValuePair.Create(credential.Layer, (IReadOnlyCollection<long>)off)]);
    }

    private static long? Highest(float[] priority, bool[] kept, long start, long kernel, bool keptOnly)
    {
        long? best = null;
        for (long u = start; u < start + kernel; u++)
        {
            if ((!keptOnly || kept[u]) && (best is null || priority[u] > priority[best.Value]))
            {
                best = u;
            }
        }

        return best;
    }

    /// <summary>Plan, constraint (on-pair weights chosen by <paramref name="priority"/> when given) and rebalance.</summary>
    internal static SignedTicket Embed(ISignatureScheme scheme, MaskSet ticket, int seed, ScoreSet? priority)
    {
        var credential = scheme.Plan(ticket);
        var constraint = priority is null ? scheme.ToConstraint(ticket, credential, seed) : FromCredential(ticket, credential, seed, priority);
        var signed = constraint.Apply(ticket, seed, priority);
        return new SignedTicket(signed, credential, constraint);
    }
}
