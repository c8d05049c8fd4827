using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Sparsity.NotebookRenderer;

/// <summary>
/// Runs a notebook source as a .NET 10 file-based app with a marker printed at the start of every code
/// cell that can take one, and splits what it printed into per-cell outputs.
/// </summary>
public static partial class NotebookRunner
{
    private const string MarkerPrefix = "##sparsity-notebook-cell:";

    /// <summary>The marker line printed at the start of code cell <paramref name="index"/>.</summary>
    public static string Marker(int index) => $"{MarkerPrefix}{index}##";

    /// <summary>The program text with a marker statement in front of every code cell that accepts one.</summary>
    /// <param name="cells">The parsed cells.</param>
    public static string Instrument(IReadOnlyList<NotebookCell> cells)
    {
        var lines = new List<string>();
        var codeIndex = 0;
        foreach (var cell in cells)
        {
            if (cell.Kind == NotebookCellKind.Markdown)
            {
                lines.AddRange(cell.Lines.Select(l => "// " + l));
                continue;
            }
            if (cell.AcceptsMarker) lines.Add($"System.Console.WriteLine(\"{Marker(codeIndex)}\");");
            lines.AddRange(cell.Lines);
            codeIndex++;
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>Splits printed text at the markers; lines before the first marker belong to code cell 0.</summary>
    /// <param name="stdout">Everything the program printed.</param>
    /// <param name="imageBase">Folder that relative image paths are resolved against.</param>
    public static Dictionary<int, CellOutput> Split(string stdout, string imageBase)
    {
        var texts = new Dictionary<int, List<string>>();
        var images = new Dictionary<int, List<byte[]>>();
        var current = 0;
        foreach (var line in stdout.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n'))
        {
            var marker = MarkerLine().Match(line);
            if (marker.Success)
            {
                current = int.Parse(marker.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                continue;
            }
            var image = ImageLine().Match(line);
            if (image.Success)
            {
                var path = Path.GetFullPath(image.Groups[1].Value, imageBase);
                if (!images.TryGetValue(current, out var list)) images[current] = list = [];
                list.Add(File.ReadAllBytes(path));
                continue;
            }
            if (!texts.TryGetValue(current, out var text)) texts[current] = text = [];
            text.Add(line);
        }
        return texts.Keys.Union(images.Keys).ToDictionary(
            k => k,
            k => new CellOutput(texts.GetValueOrDefault(k) ?? [], images.GetValueOrDefault(k) ?? []));
    }

    /// <summary>Runs the instrumented program with <c>dotnet run</c> in the source's folder and returns its output.</summary>
    /// <param name="sourcePath">The notebook source.</param>
    /// <param name="arguments">Arguments passed to the program.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <exception cref="InvalidOperationException">The program failed; the message holds its error output.</exception>
    public static string Run(string sourcePath, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(sourcePath))!;
        var instrumented = Path.Combine(folder, $".render.{Path.GetFileName(sourcePath)}");
        File.WriteAllText(instrumented, Instrument(NotebookSource.Parse(File.ReadAllText(sourcePath))));
        try
        {
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "run", "--file", instrumented, "--" }.Concat(arguments)) start.ArgumentList.Add(a);
            foreach (var (k, v) in environment) start.Environment[k] = v;
            using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{sourcePath} exited with code {process.ExitCode}:\n{stdout}\n{stderr.Result}");
            return stdout;
        }
        finally
        {
            File.Delete(instrumented);
        }
    }

    [GeneratedRegex(@"^##sparsity-notebook-cell:(\d+)##$")]
    private static partial Regex MarkerLine();

    [GeneratedRegex(@"^\[image: (.+\.png)\]$")]
    private static partial Regex ImageLine();
}
