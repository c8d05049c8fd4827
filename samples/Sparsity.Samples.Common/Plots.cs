using ScottPlot;

namespace Sparsity.Samples;

/// <summary>One named line of a plot.</summary>
/// <param name="Name">Legend label.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values (same length as <paramref name="X"/>).</param>
public sealed record PlotSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>PNG plots for the samples (ScottPlot), written atomically.</summary>
public static class Plots
{
    /// <summary>Writes a line plot with markers, one line per series.</summary>
    /// <param name="path">Target PNG file.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="xLabel">X axis label.</param>
    /// <param name="yLabel">Y axis label.</param>
    /// <param name="series">The lines.</param>
    /// <param name="logX">Plot x on a log10 scale (values must be positive).</param>
    /// <param name="categories">Names of the x positions 0, 1, 2, … (a categorical axis); numeric ticks when null.</param>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<PlotSeries> series, bool logX = false,
        IReadOnlyList<string>? categories = null)
    {
        var plot = new Plot();
        foreach (var s in series)
        {
            var xs = s.X.Select(x => logX ? Math.Log10(x) : x).ToArray();
            var scatter = plot.Add.Scatter(xs, s.Y.ToArray());
            scatter.LegendText = s.Name;
            scatter.MarkerSize = 6;
        }
        if (logX)
        {
            // Ticks at 1, 2 and 5 times the powers of ten inside the data's range, labelled with the real value.
            var all = series.SelectMany(s => s.X).Where(x => x > 0).ToList();
            var ticks = Enumerable.Range(-6, 13).SelectMany(e => new[] { 1.0, 2.0, 5.0 }.Select(m => m * Math.Pow(10, e)))
                .Where(t => t >= all.Min() / 1.0001 && t <= all.Max() * 1.0001).ToArray();
            plot.Axes.Bottom.SetTicks(ticks.Select(Math.Log10).ToArray(), ticks.Select(t => t.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }

        if (categories is not null)
        {
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, categories.Count).Select(i => (double)i).ToArray(), categories.ToArray());
        }

        plot.Title(title);
        plot.XLabel(xLabel + (logX ? " (log scale)" : string.Empty));
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.LowerRight);
        Save(plot, path, 720, 480);
    }

    /// <summary>Writes a heatmap with labelled rows and columns and a colour bar.</summary>
    /// <param name="path">Target PNG file.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="rows">Row labels (top to bottom).</param>
    /// <param name="columns">Column labels (left to right).</param>
    /// <param name="values">Values [row, column].</param>
    /// <param name="colourBarLabel">Label of the colour bar.</param>
    public static void Heatmap(string path, string title, IReadOnlyList<string> rows, IReadOnlyList<string> columns, double[,] values, string colourBarLabel)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.GetLength(0) != rows.Count || values.GetLength(1) != columns.Count)
            throw new ArgumentException($"values must be {rows.Count}×{columns.Count}.", nameof(values));
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap).Label = colourBarLabel;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i)).ToArray(), rows.ToArray());
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns.Count).Select(i => (double)i).ToArray(), columns.ToArray());
        plot.Title(title);
        Save(plot, path, 320 + (90 * columns.Count), 170 + (26 * rows.Count));
    }

    private static void Save(Plot plot, string path, int width, int height)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp.png";
        plot.SavePng(temp, width, height);
        File.Move(temp, full, overwrite: true);
    }
}
