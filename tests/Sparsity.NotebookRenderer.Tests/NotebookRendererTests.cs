namespace Sparsity.NotebookRenderer.Tests;

public class NotebookRendererTests
{
    private const string Source = """
        #:package Foo
        using System;

        // %% [markdown]
        // # Title
        //
        // Prose with `code`.

        // %%
        var x = 1;
        Console.WriteLine(x);

        // %%
        record Point(int X);
        """;

    [Fact]
    public void Parse_splits_directives_markdown_and_code_cells()
    {
        var cells = NotebookSource.Parse(Source);

        cells.Select(c => c.Kind).Should().Equal(NotebookCellKind.Code, NotebookCellKind.Markdown, NotebookCellKind.Code, NotebookCellKind.Code);
        cells[0].Lines.Should().Equal("#:package Foo", "using System;");
        cells[1].Lines.Should().Equal("# Title", "", "Prose with `code`.");
        cells[2].Lines.Should().Equal("var x = 1;", "Console.WriteLine(x);");
        cells.Select(c => c.AcceptsMarker).Should().Equal(false, false, true, false);
    }

    [Fact]
    public void Markdown_cell_with_code_is_rejected()
    {
        var act = () => NotebookSource.Parse("// %% [markdown]\nvar x = 1;\n");
        act.Should().Throw<FormatException>().WithMessage("*comment lines*");
    }

    [Fact]
    public void Instrumented_program_marks_only_statement_cells_and_output_splits_back()
    {
        var cells = NotebookSource.Parse(Source);
        var program = NotebookRunner.Instrument(cells);

        program.Should().Contain($"System.Console.WriteLine(\"{NotebookRunner.Marker(1)}\");\nvar x = 1;");
        program.Should().NotContain(NotebookRunner.Marker(0)).And.NotContain(NotebookRunner.Marker(2));

        var folder = Directory.CreateTempSubdirectory().FullName;
        byte[] png = [0x89, 0x50, 0x4E, 0x47];
        File.WriteAllBytes(Path.Combine(folder, "plot.png"), png);
        var outputs = NotebookRunner.Split($"setup\n{NotebookRunner.Marker(1)}\n1\n[image: plot.png]\n", folder);

        outputs[0].Text.Should().Equal("setup");
        outputs[1].Text.Should().Equal("1");
        outputs[1].Images.Should().ContainSingle().Which.Should().Equal(png);
    }

    [Fact]
    public void Written_notebook_reads_back_the_same_cells_with_outputs_attached()
    {
        var cells = NotebookSource.Parse(Source);
        var outputs = new Dictionary<int, CellOutput> { [1] = new(["1"], []) };

        var json = NotebookWriter.Write(cells, outputs);
        var back = NotebookWriter.ReadSources(json);

        back.Select(c => c.Kind).Should().Equal(cells.Select(c => c.Kind));
        back.Zip(cells).Should().OnlyContain(p => p.First.Lines.SequenceEqual(p.Second.Lines));
        var root = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        ((int)root["nbformat"]!).Should().Be(4);
        var second = root["cells"]![2]!;
        ((string)second["outputs"]![0]!["text"]![0]!).Should().Be("1\n");
        ((int)second["execution_count"]!).Should().Be(2);
    }

    [Fact]
    public void Every_sample_notebook_has_a_current_ipynb()
    {
        var folder = Path.Combine(RepositoryRoot(), "samples", "notebooks");
        var sources = Directory.GetFiles(folder, "*.cs").Where(p => !Path.GetFileName(p).StartsWith('.')).ToList();

        sources.Should().NotBeEmpty();
        sources.Where(s => !NotebookCurrency.IsCurrent(s)).Should().BeEmpty(
            "each samples/notebooks/*.ipynb is rendered from its .cs (dotnet run --project tools/Sparsity.NotebookRenderer -- render <file.cs>)");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sparsity.sln"))) return dir.FullName;
        throw new InvalidOperationException("Sparsity.sln not found above the test folder.");
    }
}
