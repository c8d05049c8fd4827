using Sparsity.NotebookRenderer;

// Usage:
//   render <notebook.cs> [-- program arguments]   run it and write <notebook>.ipynb next to it
//   check  <notebook.cs>...                       exit 1 when an .ipynb's cells differ from its source
if (args.Length < 2 || args[0] is not ("render" or "check"))
{
    Console.Error.WriteLine("usage: render <notebook.cs> [-- args] | check <notebook.cs>...");
    return 2;
}

if (args[0] == "check")
{
    var stale = args.Skip(1).Where(path => !NotebookCurrency.IsCurrent(path)).ToList();
    foreach (var path in stale) Console.Error.WriteLine($"stale: {Path.ChangeExtension(path, ".ipynb")} does not match {path}; run: render {path}");
    return stale.Count == 0 ? 0 : 1;
}

var source = args[1];
var programArgs = args.SkipWhile(a => a != "--").Skip(1).ToList();
var cells = NotebookSource.Parse(File.ReadAllText(source));
var stdout = NotebookRunner.Run(source, programArgs, new Dictionary<string, string>());
var outputs = NotebookRunner.Split(stdout, Path.GetDirectoryName(Path.GetFullPath(source))!);
var target = Path.ChangeExtension(source, ".ipynb");
var temp = target + ".tmp";
File.WriteAllText(temp, NotebookWriter.Write(cells, outputs));
File.Move(temp, target, overwrite: true);
Console.WriteLine($"wrote {target} ({cells.Count} cells)");
return 0;
