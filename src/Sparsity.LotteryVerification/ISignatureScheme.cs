namespace Sparsity.LotteryVerification;

/// <summary>
/// A way to write an ownership signature into a ticket's mask topology (Chen et al., NeurIPS 2021, §3.4 V2) and to
/// describe it for verification. Embedding keeps every layer's kept count (and so the overall sparsity) unchanged.
/// </summary>
public interface ISignatureScheme
{
    /// <summary>Short scheme name ("qr", "keyed").</summary>
    string Name { get; }

    /// <summary>Chooses where the signature goes in <paramref name="ticket"/> and which bits it has.</summary>
    /// <param name="ticket">The owner's ticket mask (not modified).</param>
    /// <exception cref="ArgumentException">The ticket has no layer that can carry the signature (the message says why).</exception>
    SignatureCredential Plan(MaskSet ticket);

    /// <summary>
    /// The signature as weight positions forced on/off (Core's <see cref="MaskConstraint"/>), so that a mask search can
    /// honour it instead of editing a trained ticket. An on channel pair forces one weight of its kernel on (a kept one
    /// when the ticket has one, otherwise one drawn with <paramref name="seed"/>); an off pair forces its whole kernel off.
    /// </summary>
    /// <param name="ticket">The mask the constraint will be applied to.</param>
    /// <param name="credential">A credential from <see cref="Plan"/>.</param>
    /// <param name="seed">Seed for the kernel weight switched on where a pair must be connected but is not.</param>
    MaskConstraint ToConstraint(MaskSet ticket, SignatureCredential credential, int seed = 0);

    /// <summary>
    /// Plans, builds the constraint and applies it with the in-layer rebalance of <see cref="MaskConstraint.Apply"/>;
    /// the caller then retrains or fine-tunes with the returned mask held fixed.
    /// </summary>
    /// <param name="ticket">The owner's ticket mask (not modified).</param>
    /// <param name="seed">Seed of the kernel choice and of the random rebalance.</param>
    /// <param name="priority">
    /// Optional priority (for example |W| of the dense model): it orders the rebalance, and an on channel pair forces its
    /// kept weight of highest priority, or — when the ticket keeps none — its kernel weight of highest priority instead of
    /// a random one, so that the weight carrying the bit is the last one magnitude re-pruning would remove.
    /// </param>
    SignedTicket Embed(MaskSet ticket, int seed = 0, ScoreSet? priority = null);
}

/// <summary>A signed mask with its credential and the constraint that produced it. Owns <see cref="Mask"/>.</summary>
/// <param name="Mask">The signed mask (same kept count per layer as the ticket).</param>
/// <param name="Credential">What the owner keeps to verify later.</param>
/// <param name="Constraint">The forced positions.</param>
public sealed record SignedTicket(MaskSet Mask, SignatureCredential Credential, MaskConstraint Constraint) : IDisposable
{
    /// <summary>Disposes <see cref="Mask"/>.</summary>
    public void Dispose() => Mask.Dispose();
}
