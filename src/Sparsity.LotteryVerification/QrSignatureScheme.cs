using System.Text.RegularExpressions;

namespace Sparsity.LotteryVerification;

/// <summary>Options of <see cref="QrSignatureScheme"/>.</summary>
public sealed record QrSignatureOptions
{
    /// <summary>The message encoded in the QR code (official default "signature").</summary>
    public string Message { get; init; } = "signature";

    /// <summary>
    /// Glob patterns (<c>*</c>, <c>?</c>) of candidate layers; empty = every convolution layer of the mask with at least
    /// 29×29 channel pairs. Official code: names containing <c>layer2</c> for ResNet-20 ("low-level" layers).
    /// </summary>
    public IReadOnlyList<string> CandidateLayers { get; init; } = [];

    /// <summary>Fixed placement (layer, top row, left column), skipping the best-window search; for the overwrite attack.</summary>
    public (string Layer, int Row, int Column)? Placement { get; init; }
}

/// <summary>
/// The paper's V2 signature (Chen et al., NeurIPS 2021, Algorithm 2; docs/algorithms.md#qr-signature-in-the-connectivity-v2): a version-3 level-H QR code
/// written into the channel-connectivity matrix of one convolution layer (light = pair kept), in the window of that
/// layer that already agrees best with the code (first maximum wins; agreement counted on payload cells). Only the
/// 567 data and error-correction modules are signature bits; function-pattern cells keep the ticket's values.
/// </summary>
public sealed class QrSignatureScheme : ISignatureScheme
{
    private readonly QrSignatureOptions _options;
    private readonly QrPattern _pattern;

    /// <summary>Creates the scheme.</summary>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentException">The message does not fit a version-3 level-H code.</exception>
    public QrSignatureScheme(QrSignatureOptions? options = null)
    {
        _options = options ?? new QrSignatureOptions();
        _pattern = QrPattern.Encode(_options.Message);
    }

    /// <inheritdoc />
    public string Name => "qr";

    /// <summary>The QR pattern of the message.</summary>
    public QrPattern Pattern => _pattern;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">
    /// No candidate convolution layer has at least 29×29 channel pairs (LeNet-5 has none; use <see cref="KeyedSignatureScheme"/>),
    /// or the fixed placement does not fit.
    /// </exception>
    public SignatureCredential Plan(MaskSet ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        const int n = QrPattern.Size;
        if (_options.Placement is { } fixedPlace)
        {
            if (!ticket.Contains(fixedPlace.Layer))
            {
                throw new ArgumentException($"The fixed placement names layer '{fixedPlace.Layer}', which the mask does not have.", nameof(ticket));
            }

            var shape = ticket[fixedPlace.Layer].shape;
            if (shape.Length < 2 || fixedPlace.Row < 0 || fixedPlace.Column < 0 || fixedPlace.Row + n > shape[0] || fixedPlace.Column + n > shape[1])
            {
                throw new ArgumentException(
                    $"A {n}×{n} pattern at ({fixedPlace.Row}, {fixedPlace.Column}) does not fit layer '{fixedPlace.Layer}' of shape [{string.Join(", ", shape)}].",
                    nameof(ticket));
            }

            return Credential(fixedPlace.Layer, shape, fixedPlace.Row, fixedPlace.Column, 1);
        }

        var globs = _options.CandidateLayers.Select(g => new Regex("^" + Regex.Escape(g).Replace("\\*", ".*").Replace("\\?", ".") + "$")).ToList();
        var candidates = ticket.Names
            .Where(name => globs.Count == 0 || globs.Any(r => r.IsMatch(name)))
            .Where(name => ticket[name].dim() >= 3)
            .ToList();
        var fitting = candidates.Where(name => ticket[name].shape[0] >= n && ticket[name].shape[1] >= n).ToList();
        if (fitting.Count == 0)
        {
            var largest = candidates.Count == 0
                ? "no candidate convolution layer at all"
                : "the candidates have " + string.Join(", ", candidates.Select(c => $"'{c}' {ticket[c].shape[0]}×{ticket[c].shape[1]}"));
            throw new ArgumentException(
                $"The QR signature needs a convolution layer with at least {n}×{n} channel pairs (out × in); {largest}. " +
                "Use the keyed signature (KeyedSignatureScheme), which works on any prunable layer.",
                nameof(ticket));
        }

        (string Layer, int Row, int Column, int Agree) best = ("", 0, 0, -1);
        long places = 0;
        foreach (var name in fitting)
        {
            var b = ChannelConnectivity.FromMask(ticket[name]);
            for (int r = 0; r + n <= b.Rows; r++)
            {
                for (int c = 0; c + n <= b.Columns; c++)
                {
                    places++;
                    int agree = 0;
                    for (int i = 0; i < n; i++)
                    {
                        for (int j = 0; j < n; j++)
                        {
                            if (_pattern.IsPayload(i, j) && b[r + i, c + j] == _pattern.IsLight(i, j))
                            {
                                agree++;
                            }
                        }
                    }

                    if (agree > best.Agree)
                    {
                        best = (name, r, c, agree);
                    }
                }
            }
        }

        return Credential(best.Layer, ticket[best.Layer].shape, best.Row, best.Column, places);
    }

    /// <inheritdoc />
    public MaskConstraint ToConstraint(MaskSet ticket, SignatureCredential credential, int seed = 0) =>
        SignatureConstraints.FromCredential(ticket, credential, seed);

    /// <inheritdoc />
    public SignedTicket Embed(MaskSet ticket, int seed = 0, ScoreSet? priority = null) =>
        SignatureConstraints.Embed(this, ticket, seed, priority);

    private SignatureCredential Credential(string layer, long[] shape, int row, int column, long places) =>
        Derive(OwnershipClaim.ForQr(_options.Message, layer, shape, row, column), _pattern, shape, row, column) with { PlacesCompared = places };

    /// <summary>
    /// The bits of a QR claim, from the message alone: the 567 data and error-correction modules of its version-3 code
    /// (<see cref="QrPattern.IsPayload"/>) at the claim's window. Used by <see cref="Plan"/> and by the verifier.
    /// </summary>
    internal static SignatureCredential Derive(OwnershipClaim claim, QrPattern pattern, long[] shape, int row, int column)
    {
        const int n = QrPattern.Size;
        var bits = new List<SignatureBit>();
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (pattern.IsPayload(i, j))
                {
                    bits.Add(new SignatureBit(((row + i) * shape[1]) + column + j, pattern.IsLight(i, j)));
                }
            }
        }

        return new SignatureCredential
        {
            Claim = claim,
            Scheme = OwnershipClaim.QrScheme,
            Layer = claim.Layer,
            LayerShape = shape,
            Granularity = SignatureGranularity.ChannelPair,
            NullModel = SignatureNullModel.QrNearestAlternative,
            Bits = bits,
            Row = row,
            Column = column,
            PatternSize = n,
        };
    }
}
