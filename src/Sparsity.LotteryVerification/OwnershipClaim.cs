using System.Security.Cryptography;
using System.Text;

namespace Sparsity.LotteryVerification;

/// <summary>
/// What an owner reveals to claim a ticket: the scheme, the owner's secret (the QR message or the 32-byte key) and the
/// public parameters that locate the signature, plus the fingerprint (SHA-256 commitment over all of them) the owner
/// published before the dispute. It carries no bits, positions, null model or counts of tests: the verifier re-derives
/// every expected bit and position from the secret (<see cref="Derive"/>), recomputes the fingerprint, and chooses the
/// null model itself, so a claim cannot certify itself (Chen et al., NeurIPS 2021, §3.4 leave this to a
/// person decoding a QR image). Validated on every use: <see cref="Validate"/> (ArgumentException) and the JSON reader
/// (<see cref="SparsityFormatException"/> naming the file).
/// </summary>
public sealed partial record OwnershipClaim
{
    /// <summary>Scheme name of a QR claim.</summary>
    public const string QrScheme = "qr";

    /// <summary>Scheme name of a keyed (HMAC-SHA256) claim.</summary>
    public const string KeyedScheme = "keyed";

    /// <summary>Largest payload (bytes) a keyed claim may carry.</summary>
    public const int MaxPayloadBytes = 4096;

    /// <summary><see cref="QrScheme"/> or <see cref="KeyedScheme"/>.</summary>
    public required string Scheme { get; init; }

    /// <summary>State-dict key of the signed parameter.</summary>
    public required string Layer { get; init; }

    /// <summary>Shape of the signed parameter (1 to 8 dimensions, each ≥ 1).</summary>
    public required IReadOnlyList<long> LayerShape { get; init; }

    /// <summary>QR: the encoded message (1 to 24 Latin-1 characters); null for a keyed claim.</summary>
    public string? Message { get; init; }

    /// <summary>QR: top row (output channel) of the 29×29 window; null for a keyed claim.</summary>
    public int? Row { get; init; }

    /// <summary>QR: left column (input channel) of the window; null for a keyed claim.</summary>
    public int? Column { get; init; }

    /// <summary>Keyed: the 32-byte owner key, base64; null for a QR claim.</summary>
    public string? Key { get; init; }

    /// <summary>Keyed: what the bits address; null for a QR claim (always channel pairs).</summary>
    public SignatureGranularity? Granularity { get; init; }

    /// <summary>Keyed: whitened or forced-on targets; null for a QR claim.</summary>
    public KeyedTargetMode? Mode { get; init; }

    /// <summary>Keyed: number of signature bits m, in [1, positions / 4]; null for a QR claim.</summary>
    public int? BitCount { get; init; }

    /// <summary>Keyed: optional payload (base64, at most <see cref="MaxPayloadBytes"/> bytes) whitened into the targets.</summary>
    public string? Payload { get; init; }

    /// <summary>
    /// Lower-case hex SHA-256 over every other field (<see cref="ComputeFingerprint"/>): the commitment the owner publishes
    /// with a timestamp before release. A claim whose fingerprint differs from the recomputation is rejected.
    /// </summary>
    public required string Fingerprint { get; init; }

    /// <summary>The SHA-256 commitment over the scheme, the secret and every parameter (length-prefixed canonical text).</summary>
    public string ComputeFingerprint()
    {
        var text = new StringBuilder("sparsity-ownership-claim/2");
        void Add(string name, string? value) => text.Append('\n').Append(name).Append('=').Append(value is null ? "-" : $"{value.Length}:{value}");
        Add("scheme", Scheme);
        Add("layer", Layer);
        Add("shape", LayerShape is null ? null : string.Join(",", LayerShape));
        Add("message", Message);
        Add("row", Row?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("column", Column?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("key", Key);
        Add("granularity", Granularity?.ToString());
        Add("mode", Mode?.ToString());
        Add("bits", BitCount?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("payload", Payload);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>This claim with <see cref="Fingerprint"/> set to <see cref="ComputeFingerprint"/>.</summary>
    public OwnershipClaim WithFingerprint() => this with { Fingerprint = ComputeFingerprint() };

    /// <summary>A QR claim (fingerprint computed).</summary>
    /// <param name="message">The encoded message.</param>
    /// <param name="layer">Signed layer.</param>
    /// <param name="layerShape">Its shape.</param>
    /// <param name="row">Window row.</param>
    /// <param name="column">Window column.</param>
    public static OwnershipClaim ForQr(string message, string layer, IReadOnlyList<long> layerShape, int row, int column) => new OwnershipClaim
    {
        Scheme = QrScheme, Layer = layer, LayerShape = layerShape, Message = message, Row = row, Column = column, Fingerprint = "",
    }.WithFingerprint();

    /// <summary>A keyed claim (fingerprint computed).</summary>
    /// <param name="key">The owner key.</param>
    /// <param name="layer">Signed layer.</param>
    /// <param name="layerShape">Its shape.</param>
    /// <param name="granularity">What the bits address.</param>
    /// <param name="mode">Target mode.</param>
    /// <param name="bitCount">Number of bits.</param>
    /// <param name="payload">Optional payload bytes.</param>
    public static OwnershipClaim ForKey(
        OwnerKey key, string layer, IReadOnlyList<long> layerShape, SignatureGranularity granularity, KeyedTargetMode mode, int bitCount, byte[]? payload = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new OwnershipClaim
        {
            Scheme = KeyedScheme, Layer = layer, LayerShape = layerShape, Key = Convert.ToBase64String(key.ToArray()), Granularity = granularity,
            Mode = mode, BitCount = bitCount, Payload = payload is null || payload.Length == 0 ? null : Convert.ToBase64String(payload), Fingerprint = "",
        }.WithFingerprint();
    }

    /// <summary>
    /// Range-checks every field for its scheme and checks the fingerprint against the recomputation.
    /// </summary>
    /// <exception cref="ArgumentException">The message names the field and the allowed range.</exception>
    public void Validate()
    {
        string? problem = Problem();
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid ownership claim: {problem}", "claim");
        }
    }

    /// <summary>
    /// The signature this claim stands for, re-derived from the secret by the scheme: bit positions and expected values,
    /// and the null model the verifier uses for it. Nothing of the result is read from the claim except the secret and
    /// the parameters the fingerprint commits to.
    /// </summary>
    /// <exception cref="ArgumentException">The claim is invalid (<see cref="Validate"/>).</exception>
    public SignatureCredential Derive()
    {
        Validate();
        var shape = LayerShape.ToArray();
        return Scheme == QrScheme
            ? QrSignatureScheme.Derive(this, QrPattern.Encode(Message!), shape, Row!.Value, Column!.Value)
            : KeyedSignatureScheme.Derive(this, new OwnerKey(Convert.FromBase64String(Key!)), shape);
    }

    private string? Problem()
    {
        if (Scheme is not (QrScheme or KeyedScheme))
        {
            return $"Scheme must be \"{QrScheme}\" or \"{KeyedScheme}\"; got \"{Scheme}\".";
        }

        if (string.IsNullOrWhiteSpace(Layer) || Layer.Length > 1000)
        {
            return "Layer must name the signed parameter (1 to 1000 characters).";
        }

        if (LayerShape is null || LayerShape.Count is < 1 or > 8 || LayerShape.Any(d => d is < 1 or > int.MaxValue))
        {
            return $"LayerShape must have 1 to 8 dimensions, each in [1, {int.MaxValue}]; got [{string.Join(", ", LayerShape ?? [])}].";
        }

        double size = LayerShape.Aggregate(1.0, (a, b) => a * b);
        if (size > 1L << 40)
        {
            return $"LayerShape [{string.Join(", ", LayerShape)}] has more than 2^40 weights.";
        }

        string? problem = Scheme == QrScheme ? QrProblem() : KeyedProblem();
        if (problem is not null)
        {
            return problem;
        }

        if (Fingerprint is null || Fingerprint.Length != 64 || Fingerprint.Any(c => !char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)))
        {
            return "Fingerprint must be 64 lower-case hex digits (SHA-256).";
        }

        return Fingerprint == ComputeFingerprint()
            ? null
            : "Fingerprint does not match the claim's content: the claim was edited after it was committed (or the fingerprint was).";
    }

    private string? QrProblem()
    {
        const int n = QrPattern.Size;
        if (Key is not null || Granularity is not null || Mode is not null || BitCount is not null || Payload is not null)
        {
            return "A QR claim carries only Message, Row and Column (no Key, Granularity, Mode, BitCount or Payload).";
        }

        if (string.IsNullOrEmpty(Message) || Message.Length > QrPattern.MaxMessageBytes || Message.Any(c => c > 0xFF))
        {
            return $"Message must be 1 to {QrPattern.MaxMessageBytes} Latin-1 characters.";
        }

        try
        {
            QrPattern.Encode(Message);
        }
        catch (ArgumentException e)
        {
            return $"Message does not encode as a version-3 QR code at error correction H: {e.Message}";
        }

        if (LayerShape.Count < 3)
        {
            return $"A QR claim signs a convolution weight [out, in, k…]; LayerShape has {LayerShape.Count} dimensions.";
        }

        if (Row is not { } row || Column is not { } column || row < 0 || column < 0 || row + n > LayerShape[0] || column + n > LayerShape[1])
        {
            return $"Row and Column must place the {n}×{n} window inside the {LayerShape[0]}×{LayerShape[1]} channel matrix (Row in [0, {LayerShape[0] - n}], Column in [0, {LayerShape[1] - n}]); got ({Row}, {Column}).";
        }

        return null;
    }

    private string? KeyedProblem()
    {
        if (Message is not null || Row is not null || Column is not null)
        {
            return "A keyed claim carries no Message, Row or Column.";
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(Key ?? "");
        }
        catch (FormatException)
        {
            return "Key must be base64.";
        }

        if (key.Length != OwnerKey.Length)
        {
            return $"Key must hold exactly {OwnerKey.Length} bytes; got {key.Length}.";
        }

        if (Granularity is not { } granularity || !Enum.IsDefined(granularity))
        {
            return $"Granularity must be one of {string.Join(", ", Enum.GetNames<SignatureGranularity>())}.";
        }

        if (Mode is not { } mode || !Enum.IsDefined(mode))
        {
            return $"Mode must be one of {string.Join(", ", Enum.GetNames<KeyedTargetMode>())}.";
        }

        if (granularity == SignatureGranularity.ChannelPair && LayerShape.Count < 2)
        {
            return "Channel-pair bits need a layer of rank ≥ 2.";
        }

        long positions = granularity == SignatureGranularity.ChannelPair ? LayerShape[0] * LayerShape[1] : LayerShape.Aggregate(1L, (a, b) => a * b);
        if (BitCount is not { } m || m < 1 || m > positions / 4)
        {
            return $"BitCount must lie in [1, {positions / 4}] (a quarter of the layer's {positions} positions); got {BitCount}.";
        }

        if (Payload is not null)
        {
            try
            {
                if (Convert.FromBase64String(Payload).Length is 0 or > MaxPayloadBytes)
                {
                    return $"Payload must hold 1 to {MaxPayloadBytes} bytes (or be absent).";
                }
            }
            catch (FormatException)
            {
                return "Payload must be base64.";
            }
        }

        return null;
    }
}
