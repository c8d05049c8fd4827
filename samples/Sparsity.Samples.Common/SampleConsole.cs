using Spectre.Console;

namespace Sparsity.Samples;

/// <summary>Console helpers shared by the samples: Ctrl+C, progress bars, tables.</summary>
public static class SampleConsole
{
    /// <summary>
    /// A token that Ctrl+C cancels (the first press asks the running phase to stop at the next batch and
    /// save its checkpoint; the process is not killed).
    /// </summary>
    public static CancellationTokenSource CancelOnCtrlC()
    {
        var source = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (source.IsCancellationRequested) return;
            e.Cancel = true;
            AnsiConsole.MarkupLine("[yellow]Stopping after the current batch (Ctrl+C again to kill)...[/]");
            source.Cancel();
        };
        return source;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar of <paramref name="total"/> steps. The work gets a
    /// callback that sets the number of completed steps and, optionally, a status text. Without an
    /// interactive terminal the bar is replaced by one line per completed step block.
    /// </summary>
    /// <typeparam name="T">Result type.</typeparam>
    /// <param name="description">What is running.</param>
    /// <param name="total">Number of steps.</param>
    /// <param name="work">The work.</param>
    public static T WithProgress<T>(string description, double total, Func<Action<double, string?>, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var lastPrinted = -1;
            var result = work((done, status) =>
            {
                var decile = (int)Math.Floor(10 * done / Math.Max(total, 1e-9));
                if (decile == lastPrinted) return;
                lastPrinted = decile;
                Console.WriteLine($"  {description}: {100.0 * done / total,5:F1} %{(status is null ? string.Empty : "  " + status)}");
            });
            return result;
        }
        T value = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: total);
                value = work((done, status) =>
                {
                    task.Value = done;
                    if (status is not null) task.Description = Markup.Escape($"{description}  {status}");
                });
                task.Value = total;
            });
        return value;
    }

    /// <summary>Prints a table with a title.</summary>
    /// <param name="title">Table title.</param>
    /// <param name="headers">Column headers.</param>
    /// <param name="rows">Rows of cells (same length as <paramref name="headers"/>).</param>
    public static void Table(string title, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var table = new Table().Title(Markup.Escape(title)).Border(TableBorder.Rounded);
        foreach (var h in headers) table.AddColumn(new TableColumn(Markup.Escape(h)).RightAligned());
        table.Columns[0].LeftAligned();
        foreach (var row in rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
    }
}
