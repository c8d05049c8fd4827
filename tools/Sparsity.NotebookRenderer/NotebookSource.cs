namespace Sparsity.NotebookRenderer;

/// <summary>
/// Splits a file-based app written in the percent-cell format into cells: a line <c>// %% [markdown]</c>
/// opens a prose cell whose <c>//</c> comment lines become Markdown; a line <c>// %%</c> opens a code
/// cell. Lines before the first marker form a code cell (the <c>#:</c> directives and usings).
/// </summary>
public static class NotebookSource
{
    /// <summary>The marker that opens a code cell.</summary>
    public const string CodeMarker = "// %%";

    /// <summary>The marker that opens a Markdown cell.</summary>
    public const string MarkdownMarker = "// %% [markdown]";

    /// <summary>Parses the text of a <c>.cs</c> notebook source into cells (empty cells dropped, edges trimmed).</summary>
    /// <param name="text">The whole file.</param>
    public static IReadOnlyList<NotebookCell> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cells = new List<NotebookCell>();
        var kind = NotebookCellKind.Code;
        var lines = new List<string>();

        void Flush()
        {
            var trimmed = TrimBlankEdges(lines);
            if (trimmed.Count > 0) cells.Add(new NotebookCell(kind, trimmed));
            lines = [];
        }

        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line == MarkdownMarker)
            {
                Flush();
                kind = NotebookCellKind.Markdown;
            }
            else if (line == CodeMarker)
            {
                Flush();
                kind = NotebookCellKind.Code;
            }
            else if (kind == NotebookCellKind.Markdown)
            {
                if (line.Length > 0 && !line.StartsWith("//", StringComparison.Ordinal))
                    throw new FormatException($"Markdown cells hold only '//' comment lines; found '{line}'. Open a code cell with '{CodeMarker}' first.");
                lines.Add(line.Length <= 2 ? string.Empty : line[(line.StartsWith("// ", StringComparison.Ordinal) ? 3 : 2)..]);
            }
            else
            {
                lines.Add(line);
            }
        }
        Flush();
        return cells;
    }

    private static List<string> TrimBlankEdges(List<string> lines)
    {
        var start = lines.FindIndex(l => l.Trim().Length > 0);
        if (start < 0) return [];
        var end = lines.FindLastIndex(l => l.Trim().Length > 0);
        return lines.GetRange(start, end - start + 1);
    }
}
