namespace Sparsity.NotebookRenderer;

/// <summary>Kind of a notebook cell.</summary>
public enum NotebookCellKind
{
    /// <summary>Prose (the <c>// %% [markdown]</c> cells, comment markers stripped).</summary>
    Markdown,

    /// <summary>C# code run as part of the file-based app.</summary>
    Code,
}

/// <summary>One cell of a notebook source: its kind and its lines (without trailing newlines).</summary>
/// <param name="Kind">Markdown or code.</param>
/// <param name="Lines">The cell's text, one entry per line.</param>
public sealed record NotebookCell(NotebookCellKind Kind, IReadOnlyList<string> Lines)
{
    /// <summary>
    /// Whether a run-time marker can be placed in front of the cell: a cell that starts with a file-level
    /// directive (<c>#:</c>), a <c>using</c> directive or a type declaration cannot take a statement before it.
    /// </summary>
    public bool AcceptsMarker
    {
        get
        {
            if (Kind != NotebookCellKind.Code) return false;
            var first = Lines.Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith("//", StringComparison.Ordinal));
            if (first is null) return false;
            string[] declarations = ["#:", "#!", "using ", "namespace ", "record ", "class ", "struct ", "enum ", "interface ",
                "static class ", "sealed ", "public ", "internal ", "file ", "abstract ", "partial ", "readonly "];
            return !declarations.Any(d => first.StartsWith(d, StringComparison.Ordinal))
                || first.StartsWith("using var ", StringComparison.Ordinal)
                || first.StartsWith("using (", StringComparison.Ordinal);
        }
    }
}
