using System.Security.Cryptography;

namespace Sparsity.LotteryVerification;

/// <summary>How the keyed scheme chooses target bits.</summary>
public enum KeyedTargetMode
{
    /// <summary>Target = payload bit XOR a keyed PRF bit: under the null every bit matches with probability exactly ½.</summary>
    Whitened,

    /// <summary>Every target is "on" at key-chosen positions: the null is exactly hypergeometric given the suspect's kept count.</summary>
    ForcedOn,
}

/// <summary>Options of <see cref="KeyedSignatureScheme"/>, validated when the scheme is created.</summary>
public sealed record KeyedSignatureOptions
{
    /// <summary>False-positive rate the signature must reach when at most the tolerated share of bits is wrong (default 1e-9).</summary>
    public double TargetFalsePositiveRate { get; init; } = 1e-9;

    /// <summary>Bit-error rate τ the claim must survive (attacks), in [0, ½) for whitened bits (default 0.2).</summary>
    public double ToleratedBitErrorRate { get; init; } = 0.2;

    /// <summary>Places a verifier may test (W ≥ 1) — paid for in the required bit count.</summary>
    public long PlacesTested { get; init; } = 1;

    /// <summary>Explicit bit count m; null = the exact minimum from <see cref="RequiredBits.Exact"/>. Must not be below that minimum.</summary>
    public int? Bits { get; init; }

    /// <summary>The layer to sign; null = the densest layer with enough positions (whitened) or the largest layer (forced-on).</summary>
    public string? Layer { get; init; }

    /// <summary>
    /// Channel pairs (default; for a linear layer a pair is one weight) or single weight positions. Channel pairs survive
    /// pruning attacks far better: an "on" pair stays on while any weight of its kernel is kept, and a pair the ticket
    /// already connects is signed through a weight it already keeps, whereas a forced-on single weight at a random
    /// position is typically small and is the first to go under magnitude re-pruning (measured in the verification sample).
    /// </summary>
    public SignatureGranularity Granularity { get; init; } = SignatureGranularity.ChannelPair;

    /// <summary>Whitened bits (default) or forced-on positions.</summary>
    public KeyedTargetMode Mode { get; init; } = KeyedTargetMode.Whitened;

    /// <summary>Optional owner payload (any bytes); its SHA-256 bits, repeated, are XORed with the key stream.</summary>
    public byte[]? Payload { get; init; }
}

/// <summary>
/// Our keyed signature (docs/algorithms.md#keyed-signature-ours, docs/statistics.md#false-positives-of-a-signature; not in the paper): bit positions and target bits are derived from the owner's
/// 256-bit key with HMAC-SHA256 in counter mode, so for any mask independent of the key the number of matching bits is
/// exactly Bin(m, ½) (whitened) or Hypergeom(n, k, m) (forced-on); m is the smallest count that keeps the false-positive
/// rate at the target while tolerating the chosen bit-error rate.
/// </summary>
public sealed class KeyedSignatureScheme : ISignatureScheme
{
    private readonly OwnerKey _key;
    private readonly KeyedSignatureOptions _options;

    /// <summary>Creates the scheme.</summary>
    /// <param name="key">The owner's secret key.</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside its range (the message names it).</exception>
    public KeyedSignatureScheme(OwnerKey key, KeyedSignatureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        _options = options ?? new KeyedSignatureOptions();
        if (!(_options.TargetFalsePositiveRate > 0 && _options.TargetFalsePositiveRate < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.TargetFalsePositiveRate, "KeyedSignatureOptions.TargetFalsePositiveRate must lie in (0, 1).");
        }

        if (!(_options.ToleratedBitErrorRate >= 0 && _options.ToleratedBitErrorRate < 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.ToleratedBitErrorRate, "KeyedSignatureOptions.ToleratedBitErrorRate must lie in [0, 0.5).");
        }

        if (_options.PlacesTested < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.PlacesTested, "KeyedSignatureOptions.PlacesTested must be ≥ 1.");
        }

        if (_options.Bits is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.Bits, "KeyedSignatureOptions.Bits must be ≥ 1 (or null for the minimum).");
        }
    }

    /// <summary>Creates the scheme from raw key bytes (exactly 32).</summary>
    /// <param name="key">The key bytes.</param>
    /// <param name="options">Options.</param>
    /// <exception cref="ArgumentException">The key is not 32 bytes.</exception>
    public KeyedSignatureScheme(byte[] key, KeyedSignatureOptions? options = null)
        : this(new OwnerKey(key ?? throw new ArgumentNullException(nameof(key))), options)
    {
    }

    /// <inheritdoc />
    public string Name => "keyed";

    /// <summary>The options.</summary>
    public KeyedSignatureOptions Options => _options;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The layer is unknown, too small for the required bits, or (forced-on) too dense.</exception>
    public SignatureCredential Plan(MaskSet ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        string layer = _options.Layer ?? DefaultLayer(ticket);
        if (!ticket.Contains(layer))
        {
            throw new ArgumentException($"KeyedSignatureOptions.Layer '{layer}' is not in the mask. Layers: {string.Join(", ", ticket.Names)}.", nameof(ticket));
        }

        var mask = ticket[layer];
        bool cells = _options.Granularity == SignatureGranularity.ChannelPair;
        if (cells && mask.dim() < 2)
        {
            throw new ArgumentException($"Layer '{layer}' has rank {mask.dim()}; channel-pair signatures need [out, in, …].", nameof(ticket));
        }

        long positions = cells ? mask.shape[0] * mask.shape[1] : mask.numel();
        double pi0 = 0.5;
        if (_options.Mode == KeyedTargetMode.ForcedOn)
        {
            pi0 = cells ? ChannelConnectivity.FromMask(mask).Density : (double)ticket.KeptIn(layer) / positions;
            if (!(pi0 > 0 && pi0 < 1 - _options.ToleratedBitErrorRate))
            {
                throw new ArgumentException(
                    $"Forced-on signatures need a sparse layer: '{layer}' keeps {pi0:P1} of its positions, so chance alone matches that often. Use KeyedTargetMode.Whitened.",
                    nameof(ticket));
            }
        }

        int required = RequiredBits.Exact(_options.TargetFalsePositiveRate, _options.ToleratedBitErrorRate, pi0, _options.PlacesTested);
        int m = _options.Bits ?? required;
        if (m < required)
        {
            throw new ArgumentException(
                $"KeyedSignatureOptions.Bits = {m} is below the {required} bits needed for a false-positive rate of {_options.TargetFalsePositiveRate:G3} at a tolerated bit-error rate of {_options.ToleratedBitErrorRate:G3}.",
                nameof(ticket));
        }

        if (m > positions / 4)
        {
            throw new ArgumentException(
                $"Layer '{layer}' has {positions} {(cells ? "channel pairs" : "weights")}, too few for a {m}-bit signature (at most a quarter of the positions may be signed).",
                nameof(ticket));
        }

        var claim = OwnershipClaim.ForKey(_key, layer, mask.shape, _options.Granularity, _options.Mode, m, _options.Payload);
        return Derive(claim, _key, mask.shape);
    }

    /// <summary>
    /// The bits of a keyed claim, from the key alone: positions = <c>BitCount</c> distinct draws from the PRF stream
    /// <c>positions/&lt;granularity&gt;/&lt;layer&gt;</c>; targets = SHA-256(payload) bit ⊕ PRF bit (<c>whitening/&lt;layer&gt;</c>),
    /// or all on (forced-on mode). Used by <see cref="Plan"/> and by the verifier, so both see the same bits.
    /// </summary>
    internal static SignatureCredential Derive(OwnershipClaim claim, OwnerKey key, long[] shape)
    {
        var granularity = claim.Granularity!.Value;
        var mode = claim.Mode!.Value;
        int m = claim.BitCount!.Value;
        bool cells = granularity == SignatureGranularity.ChannelPair;
        long positions = cells ? shape[0] * shape[1] : shape.Aggregate(1L, (a, b) => a * b);
        var where = key.Stream($"positions/{granularity}/{claim.Layer}").Distinct(positions, m);
        var whitening = key.Stream($"whitening/{claim.Layer}");
        var payload = SHA256.HashData(claim.Payload is null ? [] : Convert.FromBase64String(claim.Payload));
        var bits = new SignatureBit[m];
        for (int i = 0; i < m; i++)
        {
            bool target = mode == KeyedTargetMode.ForcedOn
                || (((payload[(i / 8) % payload.Length] >> (i % 8)) & 1) == 1) ^ whitening.NextBit();
            bits[i] = new SignatureBit(where[i], target);
        }

        return new SignatureCredential
        {
            Claim = claim,
            Scheme = OwnershipClaim.KeyedScheme,
            Layer = claim.Layer,
            LayerShape = shape,
            Granularity = granularity,
            NullModel = mode == KeyedTargetMode.ForcedOn ? SignatureNullModel.ForcedOnHypergeometric : SignatureNullModel.FairCoin,
            Bits = bits,
        };
    }

    private string DefaultLayer(MaskSet ticket)
    {
        var largest = ticket.Names.OrderByDescending(n => ticket[n].numel()).First();
        if (_options.Mode == KeyedTargetMode.ForcedOn)
        {
            return largest;
        }

        bool cells = _options.Granularity == SignatureGranularity.ChannelPair;
        int needed = _options.Bits ?? RequiredBits.Exact(_options.TargetFalsePositiveRate, _options.ToleratedBitErrorRate, 0.5, _options.PlacesTested);
        var eligible = ticket.Names
            .Where(n => !cells || ticket[n].dim() >= 2)
            .Select(n => (Name: n, Positions: cells ? ticket[n].shape[0] * ticket[n].shape[1] : ticket[n].numel()))
            .Where(x => x.Positions >= 4L * needed)
            .Select(x => (x.Name, x.Positions, Density: cells ? ChannelConnectivity.FromMask(ticket[x.Name]).Density : (double)ticket.KeptIn(x.Name) / x.Positions))
            .OrderByDescending(x => x.Density).ThenByDescending(x => x.Positions)
            .ToList();
        return eligible.Count > 0 ? eligible[0].Name : largest;
    }

    /// <inheritdoc />
    public MaskConstraint ToConstraint(MaskSet ticket, SignatureCredential credential, int seed = 0) =>
        SignatureConstraints.FromCredential(ticket, credential, seed);

    /// <inheritdoc />
    public SignedTicket Embed(MaskSet ticket, int seed = 0, ScoreSet? priority = null) =>
        SignatureConstraints.Embed(this, ticket, seed, priority);
}
