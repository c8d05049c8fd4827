using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sparsity.LotteryVerification;

/// <summary>JSON persistence of credentials (keep the file secret; commit to its hash before a dispute).</summary>
public sealed partial record SignatureCredential
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The credential as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads and validates a credential from JSON.</summary>
    /// <param name="json">Text written by <see cref="ToJson"/>.</param>
    /// <exception cref="FormatException">The text is not a valid credential (the message says why).</exception>
    public static SignatureCredential FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        SignatureCredential? credential;
        try
        {
            credential = JsonSerializer.Deserialize<SignatureCredential>(json, Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException or OverflowException)
        {
            // Syntax, a wrong type, a missing required member, or text that is not valid UTF-16 (a lone surrogate).
            throw new FormatException($"Not a signature credential: {e.Message}", e);
        }

        if (credential is null)
        {
            throw new FormatException("Not a signature credential: the JSON is null.");
        }

        credential.Validate();
        return credential;
    }

    /// <summary>Writes the credential atomically.</summary>
    /// <param name="path">Target file.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var temp = full + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, ToJson());
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Reads a credential written by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FormatException">The file is not a valid credential (the message names the file).</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static SignatureCredential Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var text = File.ReadAllText(path);
        try
        {
            return FromJson(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Checks the credential's internal consistency: shape, bit positions inside the layer, no duplicates.</summary>
    /// <exception cref="FormatException">The message says what is wrong.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Scheme) || string.IsNullOrWhiteSpace(Layer))
        {
            throw new FormatException("A credential needs a scheme and a layer name.");
        }

        if (!Enum.IsDefined(Granularity) || !Enum.IsDefined(NullModel))
        {
            throw new FormatException($"Unknown granularity {(int)Granularity} or null model {(int)NullModel}.");
        }

        if (LayerShape is null || LayerShape.Count < 1 || LayerShape.Count > 8 || LayerShape.Any(d => d < 1)
            || (Granularity == SignatureGranularity.ChannelPair && LayerShape.Count < 2))
        {
            throw new FormatException($"Credential layer shape [{string.Join(", ", LayerShape ?? [])}] is invalid for {Granularity} bits.");
        }

        try
        {
            _ = LayerShape.Aggregate(1L, (a, b) => checked(a * b));
        }
        catch (OverflowException e)
        {
            throw new FormatException($"Credential layer shape [{string.Join(", ", LayerShape)}] has more weights than a long counts.", e);
        }

        if ((Row, Column, PatternSize) is not (null, null, null))
        {
            if (Row is not { } row || Column is not { } column || PatternSize is not { } size || LayerShape.Count < 2
                || row < 0 || column < 0 || size < 1 || row + (long)size > LayerShape[0] || column + (long)size > LayerShape[1])
            {
                throw new FormatException(
                    $"The pattern window (row {Row}, column {Column}, size {PatternSize}) must be given whole and lie inside the layer's [{string.Join(", ", LayerShape)}] channels.");
            }
        }

        if (PlacesCompared < 1 || MaxBitErrors is < 0)
        {
            throw new FormatException($"Places compared ({PlacesCompared}) must be ≥ 1 and the bit-error limit ({MaxBitErrors}) ≥ 0.");
        }

        if (KeyFingerprint is not null && (KeyFingerprint.Length != 64 || !KeyFingerprint.All(char.IsAsciiHexDigit)))
        {
            throw new FormatException("The key fingerprint must be 64 hexadecimal digits (SHA-256).");
        }

        if (Bits is null || Bits.Count == 0)
        {
            throw new FormatException("A credential needs at least one bit.");
        }

        long limit = Granularity == SignatureGranularity.ChannelPair ? CellCount : WeightCount;
        var bad = Bits.FirstOrDefault(b => b is null || b.Position < 0 || b.Position >= limit);
        if (bad is not null || Bits.Any(b => b is null))
        {
            throw new FormatException($"A credential bit lies outside the {limit} positions of layer '{Layer}'.");
        }

        if (Bits.Select(b => b.Position).Distinct().Count() != Bits.Count)
        {
            throw new FormatException("A credential lists a position twice.");
        }
    }
}
