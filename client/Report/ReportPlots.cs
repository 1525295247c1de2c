using ScottPlot;

namespace Farm.Client.Report;

/// <summary>One line or bar series: a name and, per x position, the mean and std over runs (NaN std: one run).</summary>
internal sealed record PlotSeries(string Name, IReadOnlyList<double> Xs, IReadOnlyList<double> Means, IReadOnlyList<double> StdDevs);

/// <summary>The report's plots, drawn with ScottPlot 5 and returned as PNG bytes.</summary>
internal static class ReportPlots
{
    public const int Width = 640;
    public const int Height = 360;

    private static readonly Color Good = new(31, 119, 180, 150);
    private static readonly Color Bad = new(214, 39, 40, 150);

    /// <summary>
    /// Image-score distributions of defect-free (blue) and defective (red) test images, as in Baitieva et al.'s
    /// Figure 6: shared bins over both, counts on the y axis.
    /// </summary>
    public static byte[] ScoreHistogram(string title, IReadOnlyList<double> good, IReadOnlyList<double> bad, int bins = 30)
    {
        var plot = new Plot();
        var all = good.Concat(bad).ToList();
        var low = all.Min();
        var high = all.Max();
        var width = high > low ? (high - low) / bins : 1.0;
        foreach (var (scores, colour, name) in new[] { (good, Good, "good"), (bad, Bad, "bad") })
        {
            var counts = new double[bins];
            foreach (var score in scores)
            {
                counts[Math.Clamp((int)((score - low) / width), 0, bins - 1)]++;
            }
            var bars = plot.Add.Bars(Enumerable.Range(0, bins).Select(i => low + ((i + 0.5) * width)).ToArray(), counts);
            foreach (var bar in bars.Bars)
            {
                bar.Size = width;
                bar.FillColor = colour;
                bar.LineWidth = 0;
            }
            bars.LegendText = $"{name} (n={scores.Count})";
        }
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.XLabel("image score");
        plot.YLabel("images");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Grouped bars: one group per label, one bar per series, with ± std error bars.</summary>
    public static byte[] GroupedBars(string title, string yLabel, IReadOnlyList<string> groups, IReadOnlyList<PlotSeries> series)
    {
        var plot = new Plot();
        var barWidth = 0.8 / Math.Max(1, series.Count);
        var palette = new ScottPlot.Palettes.Category10();
        for (var s = 0; s < series.Count; s++)
        {
            var colour = palette.GetColor(s);
            var bars = series[s].Means.Select((mean, g) => new Bar
            {
                Position = series[s].Xs[g] - 0.4 + ((s + 0.5) * barWidth),
                Value = double.IsNaN(mean) ? 0 : mean,
                Error = double.IsNaN(series[s].StdDevs[g]) ? 0 : series[s].StdDevs[g],
                Size = barWidth * 0.9,
                FillColor = colour,
            }).ToList();
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = series[s].Name;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, groups.Count).Select(i => (double)i).ToArray(), [.. groups]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>A metric against a numeric condition: one line per series with ± std error bars.</summary>
    public static byte[] Lines(string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var s = 0; s < series.Count; s++)
        {
            var colour = palette.GetColor(s);
            var xs = series[s].Xs.ToArray();
            var ys = series[s].Means.ToArray();
            var line = plot.Add.Scatter(xs, ys, colour);
            line.LegendText = series[s].Name;
            line.MarkerSize = 7;
            var errors = plot.Add.ErrorBar(xs, ys, series[s].StdDevs.Select(e => double.IsNaN(e) ? 0 : e).ToArray());
            errors.Color = colour;
        }
        var ticks = series.SelectMany(s => s.Xs).Distinct().Order().ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks,
            [.. ticks.Select(x => x.ToString("G4", System.Globalization.CultureInfo.InvariantCulture))]);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.LowerLeft);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}
