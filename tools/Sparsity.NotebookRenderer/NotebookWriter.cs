using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sparsity.NotebookRenderer;

/// <summary>What one code cell printed: text lines and the PNG images it announced.</summary>
/// <param name="Text">Printed lines, in order.</param>
/// <param name="Images">PNG files announced with <c>[image: path]</c>, in order.</param>
public sealed record CellOutput(IReadOnlyList<string> Text, IReadOnlyList<byte[]> Images);

/// <summary>Writes cells and their outputs as a Jupyter notebook (nbformat 4.5), deterministically.</summary>
public static class NotebookWriter
{
    /// <summary>Builds the notebook JSON. Outputs are matched to code cells by index; missing ones are empty.</summary>
    /// <param name="cells">The parsed source cells.</param>
    /// <param name="outputs">Output per code-cell index (index counts code cells only).</param>
    public static string Write(IReadOnlyList<NotebookCell> cells, IReadOnlyDictionary<int, CellOutput> outputs)
    {
        var jsonCells = new JsonArray();
        var codeIndex = 0;
        foreach (var cell in cells)
        {
            if (cell.Kind == NotebookCellKind.Markdown)
            {
                jsonCells.Add(new JsonObject
                {
                    ["cell_type"] = "markdown",
                    ["metadata"] = new JsonObject(),
                    ["source"] = Lines(cell.Lines),
                });
                continue;
            }
            var cellOutputs = new JsonArray();
            if (outputs.TryGetValue(codeIndex, out var output))
            {
                if (output.Text.Count > 0)
                    cellOutputs.Add(new JsonObject
                    {
                        ["name"] = "stdout",
                        ["output_type"] = "stream",
                        ["text"] = Lines(output.Text, finalNewline: true),
                    });
                foreach (var png in output.Images)
                    cellOutputs.Add(new JsonObject
                    {
                        ["data"] = new JsonObject { ["image/png"] = Convert.ToBase64String(png), ["text/plain"] = new JsonArray("<plot>") },
                        ["metadata"] = new JsonObject(),
                        ["output_type"] = "display_data",
                    });
            }
            codeIndex++;
            jsonCells.Add(new JsonObject
            {
                ["cell_type"] = "code",
                ["execution_count"] = codeIndex,
                ["metadata"] = new JsonObject(),
                ["outputs"] = cellOutputs,
                ["source"] = Lines(cell.Lines),
            });
        }
        var notebook = new JsonObject
        {
            ["cells"] = jsonCells,
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = "C# (.NET 10 file-based app)", ["language"] = "C#", ["name"] = "csharp" },
                ["language_info"] = new JsonObject { ["file_extension"] = ".cs", ["name"] = "C#" },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        return notebook.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Reads back the cell kinds and sources of a notebook (outputs ignored).</summary>
    /// <param name="json">The notebook text.</param>
    public static IReadOnlyList<NotebookCell> ReadSources(string json)
    {
        var root = JsonNode.Parse(json) ?? throw new FormatException("The notebook is empty.");
        var cells = root["cells"]?.AsArray() ?? throw new FormatException("The notebook has no 'cells' array.");
        return cells.Select(c =>
        {
            var kind = (string?)c?["cell_type"] == "markdown" ? NotebookCellKind.Markdown : NotebookCellKind.Code;
            var text = string.Concat(c?["source"]?.AsArray().Select(s => (string?)s) ?? []);
            return new NotebookCell(kind, text.Split('\n'));
        }).ToList();
    }

    private static JsonArray Lines(IReadOnlyList<string> lines, bool finalNewline = false)
    {
        var array = new JsonArray();
        for (var i = 0; i < lines.Count; i++)
            array.Add(i < lines.Count - 1 || finalNewline ? lines[i] + "\n" : lines[i]);
        return array;
    }
}
