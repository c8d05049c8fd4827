using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sparsity.Samples;

/// <summary>Writes the samples' result records (JSON, CSV) atomically: a temp file, then a rename.</summary>
public static class ResultFiles
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes <paramref name="json"/> to <paramref name="path"/>, indented.</summary>
    /// <param name="path">Target file; its folder is created.</param>
    /// <param name="json">The document.</param>
    public static void WriteJson(string path, JsonNode json) => WriteText(path, json.ToJsonString(Indented) + "\n");

    /// <summary>Writes a CSV file (cells containing a comma or quote are quoted).</summary>
    /// <param name="path">Target file.</param>
    /// <param name="headers">Header row.</param>
    /// <param name="rows">Data rows.</param>
    public static void WriteCsv(string path, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        static string Cell(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', headers.Select(Cell)));
        foreach (var row in rows) text.AppendLine(string.Join(',', row.Select(Cell)));
        WriteText(path, text.ToString());
    }

    /// <summary>Writes text atomically.</summary>
    /// <param name="path">Target file; its folder is created.</param>
    /// <param name="text">Content (UTF-8).</param>
    public static void WriteText(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, full, overwrite: true);
    }
}
