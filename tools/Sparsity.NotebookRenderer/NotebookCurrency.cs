namespace Sparsity.NotebookRenderer;

/// <summary>Checks that a rendered notebook still shows the cells of its source.</summary>
public static class NotebookCurrency
{
    /// <summary>True when <c>source</c>'s .ipynb exists and has the same cells (kind and text) as the source.</summary>
    /// <param name="sourcePath">Path of the <c>.cs</c> notebook source.</param>
    public static bool IsCurrent(string sourcePath)
    {
        var notebook = Path.ChangeExtension(sourcePath, ".ipynb");
        if (!File.Exists(notebook)) return false;
        var expected = NotebookSource.Parse(File.ReadAllText(sourcePath));
        var actual = NotebookWriter.ReadSources(File.ReadAllText(notebook));
        return expected.Count == actual.Count && expected.Zip(actual).All(p =>
            p.First.Kind == p.Second.Kind && p.First.Lines.SequenceEqual(p.Second.Lines));
    }
}
