using System.Globalization;
using System.Net;
using System.Text;
using Farm.Engine;
using Farm.Engine.Results;

namespace Farm.Client.Report;

/// <summary>A cell's stored gallery: its folder (for the PNGs) and its index.</summary>
internal sealed record StoredGallery(string Folder, GalleryIndex Index);

/// <summary>What a report shows: every result row below a folder and every cell gallery stored beside them.</summary>
internal sealed record ReportInput(string ResultsRoot, IReadOnlyList<ResultRow> Rows, IReadOnlyList<StoredGallery> Galleries)
{
    public static ReportInput Load(string resultsRoot)
    {
        var rows = ResultsParquet.ReadAll(resultsRoot);
        if (rows.Count == 0)
        {
            throw new FarmException("no result files (*.parquet) found", resultsRoot);
        }
        var galleries = AnomalyMapGallery.FindFolders(resultsRoot)
            .Select(folder => new StoredGallery(folder, AnomalyMapGallery.ReadIndex(folder)))
            .ToList();
        return new ReportInput(resultsRoot, rows, galleries);
    }
}

/// <summary>
/// <c>farm report</c>'s page: one self-contained HTML file (inline CSS, images as base64 data URIs, no scripts) with
/// the summary tables, each model × product's anomaly-map gallery, good-vs-bad score histograms, per-defect-category
/// bars and metric-vs-condition plots. A section without data says so instead of vanishing.
/// </summary>
internal static class HtmlReport
{
    /// <summary>The threshold-independent metrics of the summary tables, as in Baitieva et al.'s Table 4.</summary>
    public static IReadOnlyList<string> SummaryMetrics { get; } =
        ["image_auroc", "image_aupr", "image_f1max", "image_pg2", "image_pb2", "pixel_auroc", "pixel_aupro", "pixel_f1max"];

    private const string Clean = "none";

    private static readonly string[] DefectCategoryOrder = ["structural", "surface", "contamination", "combined"];

    public static string Render(ReportInput input, DateTime generatedUtc)
    {
        var html = new StringBuilder();
        var cells = input.Rows.Select(r => r.CellId + "\n" + r.SweepId).Distinct().Count();
        html.AppendLine("<!DOCTYPE html>")
            .AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Farm report</title>")
            .AppendLine("<style>" + Css + "</style></head><body>")
            .AppendLine("<h1>Farm report</h1>")
            .Append(CultureInfo.InvariantCulture, $"<p class=\"meta\">Results: <code>{Encode(input.ResultsRoot)}</code> · {input.Rows.Count} rows from {cells} cells in ")
            .Append(CultureInfo.InvariantCulture, $"{input.Rows.Select(r => r.SweepId).Distinct().Count()} sweep(s) · {input.Galleries.Count} stored galleries · ")
            .AppendLine(CultureInfo.InvariantCulture, $"generated {generatedUtc:yyyy-MM-dd HH:mm} UTC</p>");
        html.AppendLine("<nav><a href=\"#summary\">Summary</a> · <a href=\"#galleries\">Anomaly maps</a> · " +
            "<a href=\"#histograms\">Score histograms</a> · <a href=\"#categories\">Defect categories</a> · " +
            "<a href=\"#conditions\">Conditions</a></nav>");

        SummarySection(html, input.Rows);
        GallerySection(html, input.Galleries);
        HistogramSection(html, input.Galleries);
        CategorySection(html, input.Rows);
        ConditionSection(html, input.Rows);
        html.AppendLine("</body></html>");
        return html.ToString();
    }

    private static void SummarySection(StringBuilder html, IReadOnlyList<ResultRow> rows)
    {
        html.AppendLine("<section id=\"summary\"><h2>Summary</h2>");
        var clean = rows.Where(r => r.Experiment == Clean).ToList();
        if (clean.Count == 0)
        {
            Empty(html, "no clean (experiment 'none') runs in these results");
            html.AppendLine("</section>");
            return;
        }

        html.AppendLine("<p>Clean runs (experiment <code>none</code>), overall rows (<code>defect_category = all</code>); " +
            "each cell is mean ± sample std over seeds, in %; the best mean per column is bold.</p>");
        foreach (var metric in SummaryMetrics)
        {
            var options = new SummaryTableOptions { Metric = metric, RowColumns = ["model"], ColumnColumns = ["dataset", "category"] };
            SummaryTable table;
            try
            {
                table = SummaryTable.Build(clean, options);
            }
            catch (FarmException)
            {
                // Several backbones or sizes of one model in one product: tell them apart by row.
                table = SummaryTable.Build(clean, options with { RowColumns = ["model", "backbone", "image_size"] });
            }
            SummaryTableHtml(html, table);
        }
        html.AppendLine("</section>");
    }

    private static void SummaryTableHtml(StringBuilder html, SummaryTable table)
    {
        var showCounts = table.SeedCountsDiffer;
        html.AppendLine("<table class=\"summary\">")
            .Append(CultureInfo.InvariantCulture, $"<caption><b>{Encode(table.Options.Metric)}</b>")
            .Append(table.Options.AsPercent ? " (%)" : "")
            .AppendLine(showCounts ? ", n = seeds per cell</caption>" : "</caption>")
            .Append("<thead><tr><th>").Append(Encode(string.Join("/", table.Options.RowColumns))).Append("</th>");
        foreach (var column in table.ColumnKeys)
        {
            html.Append("<th>").Append(Encode(column)).Append("</th>");
        }
        html.AppendLine("</tr></thead><tbody>");
        var best = table.ColumnKeys.ToDictionary(c => c, c => table.RowKeys
            .Select(r => table[r, c]?.Mean ?? double.NaN).Where(m => !double.IsNaN(m)).DefaultIfEmpty(double.NaN).Max());
        foreach (var row in table.RowKeys)
        {
            html.Append("<tr><th>").Append(Encode(row)).Append("</th>");
            foreach (var column in table.ColumnKeys)
            {
                var cell = table[row, column];
                var text = cell is null ? "—" : Encode(table.Format(cell, showCounts));
                var isBest = cell is { Count: > 0 } && cell.Mean == best[column];
                html.Append("<td>").Append(isBest ? $"<b>{text}</b>" : text).Append("</td>");
            }
            html.AppendLine("</tr>");
        }
        html.AppendLine("</tbody></table>");
    }

    private static void GallerySection(StringBuilder html, IReadOnlyList<StoredGallery> galleries)
    {
        html.AppendLine("<section id=\"galleries\"><h2>Anomaly maps</h2>");
        if (galleries.Count == 0)
        {
            Empty(html, "no stored anomaly maps in these results (cells restored from the cell cache store none, " +
                "nor do cells run with a gallery size of 0)");
            html.AppendLine("</section>");
            return;
        }

        html.AppendLine("<p>Per model × product, one cell's overlays (a clean run, lowest seed, where there is one): the " +
            "test image with the anomaly map as a heat map (blue low, red high, over the cell's map range) and the " +
            "ground-truth mask outlined in green. <i>Best</i>: anomalous images scored highest and normal ones lowest; " +
            "<i>worst</i>: normal images scored highest and anomalous ones lowest; <i>borderline</i>: nearest the image threshold.</p>");
        foreach (var group in galleries.GroupBy(g => (g.Index.Model, g.Index.Dataset, g.Index.Category))
                     .OrderBy(g => g.Key.Model, StringComparer.Ordinal).ThenBy(g => g.Key.Dataset, StringComparer.Ordinal)
                     .ThenBy(g => g.Key.Category, StringComparer.Ordinal))
        {
            var shown = group
                .OrderBy(g => g.Index.Experiment == Clean ? 0 : 1)
                .ThenBy(g => g.Index.Seed)
                .ThenBy(g => g.Index.CellId, StringComparer.Ordinal)
                .ThenBy(g => g.Folder, StringComparer.Ordinal)
                .First();
            var index = shown.Index;
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"gallery\"><h3>{Encode(group.Key.Model)} · {Encode(group.Key.Dataset)}/{Encode(group.Key.Category)}</h3>")
                .Append(CultureInfo.InvariantCulture, $"<p class=\"meta\">cell <code>{Encode(index.CellId)}</code> ({Encode(index.Backbone)}, {index.ImageSize} px; ")
                .Append(CultureInfo.InvariantCulture, $"{group.Count()} stored galleries for this model × product); threshold {Encode(index.ThresholdMethod)} = ")
                .Append(index.ImageThreshold is { } threshold ? Number(threshold) : "undefined")
                .AppendLine(CultureInfo.InvariantCulture, $"; map range [{Number(index.MapMin)}, {Number(index.MapMax)}]</p>");
            foreach (var kind in AnomalyMapGallery.Kinds)
            {
                var images = index.Images.Where(i => i.Kind == kind).OrderBy(i => i.Rank).ToList();
                html.Append(CultureInfo.InvariantCulture, $"<div class=\"kind\"><h4>{kind}</h4>");
                if (images.Count == 0)
                {
                    html.Append(CultureInfo.InvariantCulture, $"<p class=\"empty\">no {kind} images stored for this cell</p>");
                }
                foreach (var image in images)
                {
                    var png = File.ReadAllBytes(Path.Combine(shown.Folder, image.File));
                    html.Append("<figure>")
                        .Append(CultureInfo.InvariantCulture, $"<img src=\"{DataUri(png)}\" alt=\"{Encode(kind)} {image.Rank}: {Encode(image.Name)}\" width=\"{index.ImageSize}\" height=\"{index.ImageSize}\">")
                        .Append(CultureInfo.InvariantCulture, $"<figcaption class=\"{Encode(image.Label)}\">{Encode(image.Label)}")
                        .Append(image.Label == AnomalyMapGallery.Anomalous ? $" · {Encode(image.DefectType)}" : "")
                        .Append(image.DefectCategory is { } category ? $" ({Encode(category)})" : "")
                        .Append(CultureInfo.InvariantCulture, $"<br>score {Number(image.Score)}<br><small>{Encode(image.Name)}</small></figcaption></figure>");
                }
                html.AppendLine("</div>");
            }
            html.AppendLine("</div>");
        }
        html.AppendLine("</section>");
    }

    private static void HistogramSection(StringBuilder html, IReadOnlyList<StoredGallery> galleries)
    {
        html.AppendLine("<section id=\"histograms\"><h2>Score histograms</h2>");
        var clean = galleries.Where(g => g.Index.Experiment == Clean && g.Index.Scores.Count > 0).ToList();
        if (clean.Count == 0)
        {
            Empty(html, "no stored test scores of clean runs in these results (they come with the cells' anomaly-map galleries)");
            html.AppendLine("</section>");
            return;
        }

        html.AppendLine("<p>Image scores of the test images of clean runs, defect-free (blue) against defective (red), " +
            "pooled over seeds, per model and product (as Figure 6 of Baitieva et al.).</p>");
        foreach (var model in clean.GroupBy(g => g.Index.Model).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            html.Append(CultureInfo.InvariantCulture, $"<h3>{Encode(model.Key)}</h3><div class=\"plots\">");
            foreach (var product in model.GroupBy(g => (g.Index.Dataset, g.Index.Category)).OrderBy(g => g.Key.Dataset, StringComparer.Ordinal)
                         .ThenBy(g => g.Key.Category, StringComparer.Ordinal))
            {
                var scores = product.SelectMany(g => g.Index.Scores).ToList();
                var good = scores.Where(s => s.Label == AnomalyMapGallery.Normal).Select(s => s.Score).ToList();
                var bad = scores.Where(s => s.Label == AnomalyMapGallery.Anomalous).Select(s => s.Score).ToList();
                var title = $"{model.Key} · {product.Key.Dataset}/{product.Key.Category} ({product.Count()} runs)";
                Plot(html, ReportPlots.ScoreHistogram(title, good, bad), $"score histogram: {title}");
            }
            html.AppendLine("</div>");
        }
        html.AppendLine("</section>");
    }

    private static void CategorySection(StringBuilder html, IReadOnlyList<ResultRow> rows)
    {
        html.AppendLine("<section id=\"categories\"><h2>Defect categories</h2>");
        var perCategory = OneRowPerRun(rows.Where(r => r.Experiment == Clean && r.DefectCategory != ResultRow.AllDefects));
        if (perCategory.Count == 0)
        {
            Empty(html, "no defect-category rows in these results (they need the product-agnostic labels CSV)");
            html.AppendLine("</section>");
            return;
        }

        var categories = perCategory.Select(r => r.DefectCategory).Distinct()
            .OrderBy(c => Array.IndexOf(DefectCategoryOrder, c) is var i and >= 0 ? i : int.MaxValue).ThenBy(c => c, StringComparer.Ordinal)
            .ToList();
        html.AppendLine("<p>Clean runs: each defect category's anomalous images against every normal image, mean ± std over " +
            "runs (seeds × products) per model.</p><div class=\"plots\">");
        foreach (var metric in new[] { "image_auroc", "pixel_aupro" })
        {
            var series = perCategory.GroupBy(r => r.Model).OrderBy(g => g.Key, StringComparer.Ordinal).Select(model =>
            {
                var stats = categories.Select(c => MeanStd(model.Where(r => r.DefectCategory == c), metric)).ToList();
                return new PlotSeries(model.Key, [.. Enumerable.Range(0, categories.Count).Select(i => (double)i)],
                    [.. stats.Select(s => s.Mean)], [.. stats.Select(s => s.Std)]);
            }).ToList();
            Plot(html, ReportPlots.GroupedBars($"{metric} per defect category", metric, categories, series),
                $"{metric} per defect category");
        }
        html.AppendLine("</div></section>");
    }

    private static void ConditionSection(StringBuilder html, IReadOnlyList<ResultRow> rows)
    {
        html.AppendLine("<section id=\"conditions\"><h2>Metrics against conditions</h2>");
        html.AppendLine("<p>Overall rows, one per run; each point is the mean ± std over seeds, condition seeds and products; " +
            "the clean runs are the reference point (their image size; no drift; noise rate 0).</p>");
        var overall = OneRowPerRun(rows.Where(r => r.DefectCategory == ResultRow.AllDefects));

        html.AppendLine("<h3>Input resolution</h3>");
        var resolution = overall.Where(r => r.Experiment is Clean or "resolution").ToList();
        if (!overall.Any(r => r.Experiment == "resolution"))
        {
            Empty(html, "no resolution runs in these results");
        }
        else
        {
            ConditionLines(html, resolution, r => r.ImageSize, "image size (px)", ["image_auroc", "pixel_f1max", "image_pg2"]);
        }

        html.AppendLine("<h3>Data drift</h3>");
        if (!overall.Any(r => r.Experiment == "drift"))
        {
            Empty(html, "no drift runs in these results");
        }
        else
        {
            html.AppendLine("<div class=\"plots\">");
            var drift = overall.Where(r => r.Experiment is Clean or "drift").ToList();
            string[] groups = ["clean", "drift"];
            foreach (var metric in new[] { "image_auroc", "pixel_aupro" })
            {
                var series = drift.GroupBy(r => r.Model).OrderBy(g => g.Key, StringComparer.Ordinal).Select(model =>
                {
                    var stats = new[] { Clean, "drift" }.Select(e => MeanStd(model.Where(r => r.Experiment == e), metric)).ToList();
                    return new PlotSeries(model.Key, [0, 1], [.. stats.Select(s => s.Mean)], [.. stats.Select(s => s.Std)]);
                }).ToList();
                Plot(html, ReportPlots.GroupedBars($"{metric}: clean vs drifted test images", metric, groups, series), $"{metric} under drift");
            }
            html.AppendLine("</div>");
        }

        html.AppendLine("<h3>Noisy labels</h3>");
        if (!overall.Any(r => r.Experiment == "noisy-labels"))
        {
            Empty(html, "no noisy-label runs in these results");
        }
        else
        {
            ConditionLines(html, overall.Where(r => r.Experiment is Clean or "noisy-labels").ToList(),
                r => r.ConditionParameter is { } rate ? double.Parse(rate, CultureInfo.InvariantCulture) : 0,
                "share of anomalous images among the training images", ["image_auroc", "pixel_aupro"]);
        }
        html.AppendLine("</section>");
    }

    private static void ConditionLines(StringBuilder html, IReadOnlyList<ResultRow> rows, Func<ResultRow, double> x, string xLabel,
        IReadOnlyList<string> metrics)
    {
        html.AppendLine("<div class=\"plots\">");
        foreach (var metric in metrics)
        {
            var series = rows.GroupBy(r => r.Model).OrderBy(g => g.Key, StringComparer.Ordinal).Select(model =>
            {
                var points = model.GroupBy(x).OrderBy(g => g.Key).Select(g => (X: g.Key, Stats: MeanStd(g, metric)))
                    .Where(p => !double.IsNaN(p.Stats.Mean)).ToList();
                return new PlotSeries(model.Key, [.. points.Select(p => p.X)], [.. points.Select(p => p.Stats.Mean)],
                    [.. points.Select(p => p.Stats.Std)]);
            }).Where(s => s.Xs.Count > 0).ToList();
            if (series.Count == 0)
            {
                Empty(html, $"{metric} is undefined in every run");
                continue;
            }
            Plot(html, ReportPlots.Lines($"{metric} against {xLabel}", xLabel, metric, series), $"{metric} against {xLabel}");
        }
        html.AppendLine("</div>");
    }

    /// <summary>
    /// One row per run and defect category (the latest, when a configuration ran in several sweeps): threshold-method
    /// rows share the threshold-independent metrics, and counting each would count every seed five times.
    /// </summary>
    private static List<ResultRow> OneRowPerRun(IEnumerable<ResultRow> rows) =>
        [.. rows.GroupBy(r => (r.ConfigHash, r.DefectCategory))
            .Select(g => g.OrderByDescending(r => r.CreatedUtc).ThenBy(r => r.ThresholdMethod, StringComparer.Ordinal).First())];

    /// <summary>Mean and sample std of a metric over rows, leaving out undefined values; NaN where there are too few.</summary>
    private static (double Mean, double Std) MeanStd(IEnumerable<ResultRow> rows, string metric)
    {
        var values = rows.Select(r => ResultColumns.Get(r, metric) is double value ? value : double.NaN).Where(v => !double.IsNaN(v)).ToList();
        if (values.Count == 0)
        {
            return (double.NaN, double.NaN);
        }
        var mean = values.Average();
        return (mean, values.Count < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)));
    }

    private static void Plot(StringBuilder html, byte[] png, string alt) =>
        html.Append(CultureInfo.InvariantCulture,
            $"<img class=\"plot\" src=\"{DataUri(png)}\" alt=\"{Encode(alt)}\" width=\"{ReportPlots.Width}\" height=\"{ReportPlots.Height}\">");

    private static void Empty(StringBuilder html, string message) =>
        html.Append("<p class=\"empty\">").Append(Encode(message)).AppendLine("</p>");

    private static string DataUri(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Number(double value) => value.ToString("G5", CultureInfo.InvariantCulture);

    private const string Css = """
        body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px; color: #222; }
        h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
        .meta { color: #555; font-size: 0.9em; }
        .empty { color: #8a6d3b; background: #fcf8e3; padding: 0.4em 0.8em; border-radius: 4px; display: inline-block; }
        table.summary { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
        table.summary caption { text-align: left; padding-bottom: 0.3em; }
        table.summary th, table.summary td { border: 1px solid #ddd; padding: 0.25em 0.6em; }
        table.summary td { text-align: right; font-variant-numeric: tabular-nums; }
        table.summary thead th { background: #f4f4f4; }
        .gallery { margin: 1em 0 2em; }
        .kind { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 0.6em; margin: 0.4em 0; }
        .kind h4 { width: 6em; margin: 0.3em 0; }
        figure { margin: 0; font-size: 0.75em; max-width: 200px; }
        figure img { width: 160px; height: 160px; image-rendering: pixelated; display: block; }
        figcaption.anomalous { color: #b22222; }
        figcaption.normal { color: #1f5fa0; }
        figcaption small { color: #777; word-break: break-all; }
        .plots { display: flex; flex-wrap: wrap; gap: 1em; }
        img.plot { max-width: 100%; height: auto; }
        """;
}
