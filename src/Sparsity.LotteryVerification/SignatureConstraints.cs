namespace Sparsity.LotteryVerification;

/// <summary>Turns a credential's bits into forced weight positions (shared by both schemes).</summary>
internal static class SignatureConstraints
{
    internal static MaskConstraint FromCredential(MaskSet ticket, SignatureCredential credential, int seed)
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

    internal static SignedTicket Embed(ISignatureScheme scheme, MaskSet ticket, int seed, ScoreSet? priority)
    {
        var credential = scheme.Plan(ticket);
        var constraint = scheme.ToConstraint(ticket, credential, seed);
        var signed = constraint.Apply(ticket, seed, priority);
        return new SignedTicket(signed, credential, constraint);
    }
}
