using System.Collections.Concurrent;
using QRCoder;

namespace Sparsity.LotteryVerification;

/// <summary>
/// A version-3 QR code (29×29 modules, error correction H, no border) of a message, as used by Chen et al.
/// (docs/algorithms.md#qr-signature-in-the-connectivity-v2), with the paper's polarity: <c>true</c> = light module = channel pair kept. Encoded with
/// QRCoder; decoding is not needed because verification compares bits.
/// </summary>
public sealed class QrPattern
{
    /// <summary>Modules per side of a version-3 code.</summary>
    public const int Size = 29;

    /// <summary>Version-3 byte-mode capacity at error correction H.</summary>
    public const int MaxMessageBytes = 24;

    private static readonly bool[] Version3Information = QrLayout.InformationModules(3);
    private static readonly ConcurrentDictionary<string, int> NearestCache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, QrPattern> EncodeCache = new(StringComparer.Ordinal);

    private readonly bool[] _light;
    private readonly bool[] _payload;

    private QrPattern(string message, bool[] light, bool[] payload)
    {
        Message = message;
        _light = light;
        _payload = payload;
    }

    /// <summary>The encoded message.</summary>
    public string Message { get; }

    /// <summary>
    /// Number of payload cells: the 567 data and error-correction modules of a version-3 symbol (ISO/IEC 18004 Table 1:
    /// 70 codewords × 8 + 7 remainder bits), see <see cref="QrLayout"/>.
    /// </summary>
    public int PayloadCount => _payload.Count(p => p);

    /// <summary>Whether module (row, column) is light (= channel pair kept).</summary>
    /// <param name="row">Row in [0, 29).</param>
    /// <param name="column">Column in [0, 29).</param>
    public bool IsLight(int row, int column) => _light[(Check(row, nameof(row)) * Size) + Check(column, nameof(column))];

    /// <summary>
    /// Whether module (row, column) is payload: a data or error-correction module of the version-3 symbol
    /// (<see cref="QrLayout.InformationModules"/>). Function patterns — finder patterns and their separators, timing
    /// patterns, the alignment pattern, format information and the dark module — are the same in every symbol of a mask
    /// pattern and carry nothing about the message, so they are never signature bits.
    /// </summary>
    /// <param name="row">Row in [0, 29).</param>
    /// <param name="column">Column in [0, 29).</param>
    public bool IsPayload(int row, int column) => _payload[(Check(row, nameof(row)) * Size) + Check(column, nameof(column))];

    /// <summary>Encodes <paramref name="message"/> as a version-3, level-H QR code.</summary>
    /// <param name="message">1 to 24 ISO-8859-1 characters (official default: "signature").</param>
    /// <exception cref="ArgumentException">The message is empty or does not fit a version-3 level-H code.</exception>
    public static QrPattern Encode(string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(message);
        if (EncodeCache.TryGetValue(message, out var cached))
        {
            return cached;
        }

        var pattern = EncodeUncached(message);
        if (EncodeCache.Count > 4096)
        {
            EncodeCache.Clear();
        }

        EncodeCache[message] = pattern;
        return pattern;
    }

    private static QrPattern EncodeUncached(string message)
    {
        if (message.Length > MaxMessageBytes || message.Any(c => c > 0xFF))
        {
            throw new ArgumentException(
                $"A version-3 QR code at error correction H holds at most {MaxMessageBytes} Latin-1 characters; '{message}' does not fit.",
                nameof(message));
        }

        QRCodeData data;
        try
        {
            data = QRCodeGenerator.GenerateQrCode(message, QRCodeGenerator.ECCLevel.H, requestedVersion: 3);
        }
        catch (QRCoder.Exceptions.DataTooLongException e)
        {
            throw new ArgumentException($"'{message}' does not fit a version-3 QR code at error correction H: {e.Message}", nameof(message), e);
        }

        using var owned = data;
        var matrix = data.ModuleMatrix;
        int border = (matrix.Count - Size) / 2;
        if (matrix.Count - (2 * border) != Size)
        {
            throw new InvalidOperationException($"QRCoder returned a {matrix.Count}-module matrix; expected {Size} plus a border.");
        }

        var light = new bool[Size * Size];
        for (int r = 0; r < Size; r++)
        {
            for (int c = 0; c < Size; c++)
            {
                light[(r * Size) + c] = !matrix[r + border][c + border];
            }
        }

        return new QrPattern(message, light, Version3Information);
    }

    /// <summary>Number of payload cells where this code and <paramref name="other"/> differ.</summary>
    /// <param name="other">Another pattern.</param>
    public int PayloadDistance(QrPattern other)
    {
        ArgumentNullException.ThrowIfNull(other);
        int d = 0;
        for (int i = 0; i < _light.Length; i++)
        {
            if (_payload[i] && _light[i] != other._light[i])
            {
                d++;
            }
        }

        return d;
    }

    /// <summary>
    /// The smallest payload distance from this code to the code of any message one edit away: every substitution by a
    /// printable Latin-1 character (0x20–0x7E, 0xA0–0xFF), every deletion, every insertion of a printable ASCII character
    /// at any position. QR codes of short messages share header and padding codewords (a whole Reed–Solomon block of
    /// padding for messages up to 11 bytes), so near messages give near codes: measured for "signature", 66 of the 567
    /// payload modules for the nearest neighbour. This is the distance the QR null model
    /// (<see cref="SignatureNullModel.QrNearestAlternative"/>) assumes for the closest message another owner could have
    /// chosen independently. Cached per message (a few thousand encodings, about a second).
    /// </summary>
    public int NearestAlternativeDistance() => NearestCache.GetOrAdd(Message, _ => ComputeNearestAlternativeDistance());

    /// <summary>The one-edit neighbours of <paramref name="message"/> searched by <see cref="NearestAlternativeDistance"/> (those that fit a version-3 code).</summary>
    /// <param name="message">The message.</param>
    internal static IEnumerable<string> OneEditNeighbours(string message)
    {
        var printable = Enumerable.Range(0x20, 0x7F - 0x20).Concat(Enumerable.Range(0xA0, 0x100 - 0xA0)).Select(c => (char)c).ToArray();
        for (int i = 0; i < message.Length; i++)
        {
            if (message.Length > 1)
            {
                yield return message.Remove(i, 1);
            }

            foreach (var c in printable)
            {
                if (c != message[i])
                {
                    yield return string.Concat(message.AsSpan(0, i), c.ToString(), message.AsSpan(i + 1));
                }
            }
        }

        if (message.Length < MaxMessageBytes)
        {
            for (int i = 0; i <= message.Length; i++)
            {
                for (char c = ' '; c <= '~'; c++)
                {
                    yield return message.Insert(i, c.ToString());
                }
            }
        }
    }

    private int ComputeNearestAlternativeDistance()
    {
        int best = int.MaxValue;
        foreach (var alt in OneEditNeighbours(Message).Distinct(StringComparer.Ordinal))
        {
            if (alt == Message)
            {
                continue;
            }

            QrPattern other;
            try
            {
                other = EncodeUncached(alt);
            }
            catch (ArgumentException)
            {
                continue; // does not fit a version-3 code
            }

            best = Math.Min(best, PayloadDistance(other));
        }

        return best == int.MaxValue ? PayloadCount : best;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new System.Text.StringBuilder();
        for (int r = 0; r < Size; r++)
        {
            for (int c = 0; c < Size; c++)
            {
                sb.Append(_light[(r * Size) + c] ? ' ' : '#');
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    private static int Check(int v, string name) =>
        (uint)v < Size ? v : throw new ArgumentOutOfRangeException(name, v, $"Must lie in [0, {Size}).");
}
