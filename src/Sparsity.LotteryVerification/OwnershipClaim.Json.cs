using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sparsity.LotteryVerification;

/// <summary>JSON persistence of claims: strict (unknown members, numeric enums and missing members are errors), validated.</summary>
public sealed partial record OwnershipClaim
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
    };

    /// <summary>The claim as JSON (only the fields of its scheme).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads and validates a claim from JSON.</summary>
    /// <param name="json">Text written by <see cref="ToJson"/>.</param>
    /// <param name="source">Name of the text's origin for the exception (a file path), default "claim JSON".</param>
    /// <exception cref="SparsityFormatException">The text is not a valid claim (the message names <paramref name="source"/> and says why).</exception>
    public static OwnershipClaim FromJson(string json, string source = "claim JSON")
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        OwnershipClaim? claim;
        try
        {
            claim = JsonSerializer.Deserialize<OwnershipClaim>(json, Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new SparsityFormatException(source, $"not an ownership claim: {e.Message}", e);
        }

        if (claim is null)
        {
            throw new SparsityFormatException(source, "not an ownership claim: the JSON is null.");
        }

        try
        {
            claim.Validate();
        }
        catch (ArgumentException e)
        {
            throw new SparsityFormatException(source, e.Message, e);
        }

        return claim;
    }

    /// <summary>Writes the claim atomically (temporary file + rename).</summary>
    /// <param name="path">Target file.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var temp = full + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, ToJson());
        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Reads a claim written by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="SparsityFormatException">The file is not a valid claim (the message names the file).</exception>
    public static OwnershipClaim Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new SparsityFormatException(path, "not UTF-8 text.", e);
        }

        return FromJson(text, path);
    }
}
