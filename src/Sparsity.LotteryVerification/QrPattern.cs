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

    /// <summary>Number of payload cells (841 − 290 template cells = 551).</summary>
    public int PayloadCount => _payload.Count(p => p);

    /// <summary>Whether module (row, column) is light (= channel pair kept).</summary>
    /// <param name="row">Row in [0, 29).</param>
    /// <param name="column">Column in [0, 29).</param>
    public bool IsLight(int row, int column) => _light[(Check(row, nameof(row)) * Size) + Check(column, nameof(column))];

    /// <summary>
    /// Whether module (row, column) is payload. Template cells (not payload, as in the official code, docs/algorithms.md#qr-signature-in-the-connectivity-v2):
    /// the three 9×9 corner blocks, the 5×5 alignment block [20:25, 20:25], row 6 and column 6.
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
        var payload = new bool[Size * Size];
        for (int r = 0; r < Size; r++)
        {
            for (int c = 0; c < Size; c++)
            {
                light[(r * Size) + c] = !matrix[r + border][c + border];
                payload[(r * Size) + c] = !IsTemplate(r, c);
            }
        }

        return new QrPattern(message, light, payload);
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
    /// The smallest payload distance from this code to the code of any message one edit away (every printable-ASCII
    /// substitution, every deletion, every appended printable character). QR codes of short messages share header and
    /// padding codewords, so near messages give near codes (measured for "signature": 65 of 551 cells for "si&amp;nature",
    /// 184 for "thief"); a claim is unambiguous only inside half this distance (bounded-distance decoding).
    /// </summary>
    public int NearestAlternativeDistance()
    {
        var alternatives = new List<string>();
        for (int i = 0; i < Message.Length; i++)
        {
            alternatives.Add(Message.Remove(i, 1));
            for (char c = ' '; c <= '~'; c++)
            {
                if (c != Message[i])
                {
                    alternatives.Add(string.Concat(Message.AsSpan(0, i), c.ToString(), Message.AsSpan(i + 1)));
                }
            }
        }

        if (Message.Length < MaxMessageBytes)
        {
            for (char c = ' '; c <= '~'; c++)
            {
                alternatives.Add(Message + c);
            }
        }

        int best = int.MaxValue;
        foreach (var alt in alternatives.Where(a => a.Length > 0))
        {
            QrPattern other;
            try
            {
                other = Encode(alt);
            }
            catch (ArgumentException)
            {
                continue; // does not fit
            }

            best = Math.Min(best, PayloadDistance(other));
        }

        return best;
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

    private static bool IsTemplate(int r, int c) =>
        (r < 9 && c < 9) || (r >= Size - 9 && c < 9) || (r < 9 && c >= Size - 9)
        || (r >= 20 && r < 25 && c >= 20 && c < 25) || r == 6 || c == 6;

    private static int Check(int v, string name) =>
        (uint)v < Size ? v : throw new ArgumentOutOfRangeException(name, v, $"Must lie in [0, {Size}).");
}
