using System.Globalization;
using System.Net;
using System.Text;

namespace Farm.Engine.Results;

/// <summary>The output formats of <c>farm table</c>.</summary>
public enum TableFormat
{
    Markdown,
    Latex,
    Csv,
    Html,
}

/// <summary>
/// Renders a <see cref="SummaryTable"/> as Markdown, LaTeX, CSV (RFC 4180) or an HTML table. Every format shows the
/// same numbers (one rounding, <see cref="SummaryTable.Number"/>), the same best-per-column marks (bold; none in CSV)
/// and the same "(n=K)" seed counts where cells rest on different numbers of seeds.
/// </summary>
public static class TableFormats
{
    private const string Missing = "—";

    public static TableFormat Parse(string name) => name.ToLowerInvariant() switch
    {
        "markdown" or "md" => TableFormat.Markdown,
        "latex" or "tex" => TableFormat.Latex,
        "csv" => TableFormat.Csv,
        "html" => TableFormat.Html,
        _ => throw new FarmException($"unknown table format '{name}'; formats: markdown, latex, csv, html", field: "--format"),
    };

    public static string Render(SummaryTable table, TableFormat format) => format switch
    {
        TableFormat.Markdown => Markdown(table),
        TableFormat.Latex => Latex(table),
        TableFormat.Csv => Csv(table),
        TableFormat.Html => Html(table),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>One part of a shown cell: a metric's text and whether it is its column's best.</summary>
    private sealed record Part(string Text, bool Best);

    /// <summary>A shown cell: its parts (none where no result has that row and column) and its seed count note.</summary>
    private sealed record Shown(IReadOnlyList<Part> Parts, string? Count);

    /// <summary>Per row key, the shown cells in column order.</summary>
    private static List<(string RowKey, List<Shown> Cells)> Layout(SummaryTable table)
    {
        var best = BestParts(table);
        var showCounts = table.SeedCountsDiffer;
        var multi = table.Options.Metrics.Count > 1;
        return [.. table.RowKeys.Select(rowKey => (rowKey, table.ColumnKeys.Select(columnKey =>
        {
            if (table.Parts(rowKey, columnKey) is not { } parts)
            {
                return new Shown([], null);
            }
            var shown = parts.Select((cell, part) => new Part(
                cell.Count == 0 ? "n/a" : multi ? table.Number(cell.Mean, part) : table.Format(cell),
                best.Contains((columnKey, part, rowKey)))).ToList();
            string? count = null;
            if (showCounts && columnKey != table.Options.MeanColumn && parts.Any(c => c.Count > 0))
            {
                var counts = parts.Select(c => c.Count).Distinct().Count() == 1
                    ? parts[0].Count.ToString(CultureInfo.InvariantCulture)
                    : string.Join("/", parts.Select(c => c.Count.ToString(CultureInfo.InvariantCulture)));
                count = $"(n={counts})";
            }
            return new Shown(shown, count);
        }).ToList()))];
    }

    /// <summary>
    /// (column, metric part, row) of each best value: per column and metric with a better direction, the rows whose
    /// shown (rounded) mean is the highest, or lowest; ties are all best. A column needs two values to have a best.
    /// </summary>
    private static HashSet<(string Column, int Part, string Row)> BestParts(SummaryTable table)
    {
        var best = new HashSet<(string, int, string)>();
        if (!table.Options.MarkBest)
        {
            return best;
        }
        for (var part = 0; part < table.Options.Metrics.Count; part++)
        {
            var direction = table.Direction(part);
            if (direction == Better.Neither)
            {
                continue;
            }
            foreach (var columnKey in table.ColumnKeys)
            {
                var shown = table.RowKeys
                    .Select(rowKey => (rowKey, Cell: table.Parts(rowKey, columnKey)?[part]))
                    .Where(x => x.Cell is { Count: > 0 })
                    .Select(x => (x.rowKey, Value: double.Parse(table.Number(x.Cell!.Mean, part), CultureInfo.InvariantCulture)))
                    .ToList();
                if (shown.Count < 2)
                {
                    continue;
                }
                var top = direction == Better.Higher ? shown.Max(x => x.Value) : shown.Min(x => x.Value);
                foreach (var (rowKey, _) in shown.Where(x => x.Value == top))
                {
                    best.Add((columnKey, part, rowKey));
                }
            }
        }
        return best;
    }

    /// <summary>How a format writes the caption's bold metric names and its text (symbols are Unicode; LaTeX spells them out).</summary>
    private sealed record CaptionStyle(Func<string, string> Bold, Func<string, string> Escape);

    private static string Caption(SummaryTable table, CaptionStyle style)
    {
        var options = table.Options;
        var metrics = options.Metrics;
        var percent = table.Percent.All(p => p) ? " (%)"
            : table.Percent.Any(p => p) ? $" (% except {string.Join(", ", metrics.Where((_, i) => !table.Percent[i]))})"
            : "";
        var seeds = table.SeedCountsDiffer ? "n = seeds per cell" : $"n = {table.CommonSeedCount} seeds";
        var conditionSeeds = table.PoolsConditionSeeds ? $" (run seed × condition seed)" : "";
        var text = new StringBuilder()
            .Append(style.Bold(string.Join("/", metrics))).Append(style.Escape(percent)).Append(style.Escape(": "))
            .Append(style.Escape(metrics.Count == 1
                ? $"mean ± sample std (n − 1) over seeds"
                : $"means over seeds, one per metric in the order named (sample std omitted in a/b cells, as in Baitieva et al.)"))
            .Append(style.Escape(conditionSeeds)).Append(style.Escape($", {seeds}"));
        if (options.MeanOver.Count > 0)
        {
            text.Append(style.Escape($"; each seed's value is the mean over {string.Join("/", options.MeanOver)}"));
        }
        text.Append(style.Escape($"; threshold method: {options.ThresholdMethod ?? "any (metric does not depend on it)"}"))
            .Append(style.Escape($"; defect category: {options.DefectCategory ?? "any"}"));
        if (options.Filters.Count > 0)
        {
            text.Append(style.Escape($"; filters: {string.Join("; ", options.Filters)}"));
        }
        if (options.MeanColumn is { } mean)
        {
            text.Append(style.Escape($"; {mean}: mean of the other columns (where the row has them all)"));
        }
        if (options.MarkBest && Enumerable.Range(0, metrics.Count).Any(p => table.Direction(p) != Better.Neither))
        {
            text.Append(style.Escape("; best per column in bold"));
        }
        return text.Append('.').ToString();
    }

    public static string Markdown(SummaryTable table)
    {
        static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
        var caption = Caption(table, new CaptionStyle(t => $"**{Escape(t)}**", t => t));
        var markdown = new StringBuilder().AppendLine(caption).AppendLine();
        var header = Escape(string.Join("/", table.Options.RowColumns));
        markdown.AppendLine("| " + string.Join(" | ", table.ColumnKeys.Select(Escape).Prepend(header)) + " |");
        markdown.AppendLine("|:--|" + string.Concat(table.ColumnKeys.Select(_ => "--:|")));
        foreach (var (rowKey, cells) in Layout(table))
        {
            var values = cells.Select(cell => CellText(cell, part => part.Best ? $"**{part.Text}**" : part.Text, " ", Missing));
            markdown.AppendLine("| " + string.Join(" | ", values.Select(Escape).Prepend(Escape(rowKey))) + " |");
        }
        return markdown.ToString();
    }

    /// <summary>A <c>table</c> environment (plain <c>tabular</c> with <c>\hline</c>; no packages needed).</summary>
    public static string Latex(SummaryTable table)
    {
        var caption = Caption(table, new CaptionStyle(t => $"\\textbf{{{LatexEscape(t)}}}", LatexEscape));
        var latex = new StringBuilder()
            .Append("\\begin{table}[ht]\n\\centering\n")
            .Append("\\caption{").Append(caption).Append("}\n")
            .Append("\\begin{tabular}{l").Append('r', table.ColumnKeys.Count).Append("}\n\\hline\n");
        var header = LatexEscape(string.Join("/", table.Options.RowColumns));
        latex.Append(string.Join(" & ", table.ColumnKeys.Select(LatexEscape).Prepend(header))).Append(" \\\\\n\\hline\n");
        foreach (var (rowKey, cells) in Layout(table))
        {
            var values = cells.Select(cell => CellText(cell,
                part => part.Best ? $"\\textbf{{{LatexEscape(part.Text)}}}" : LatexEscape(part.Text), " ", "--", LatexEscape));
            latex.Append(string.Join(" & ", values.Prepend(LatexEscape(rowKey)))).Append(" \\\\\n");
        }
        return latex.Append("\\hline\n\\end{tabular}\n\\end{table}\n").ToString();
    }

    /// <summary>RFC 4180: a header row, then one record per table row, CRLF line ends; no caption, no markup.</summary>
    public static string Csv(SummaryTable table)
    {
        var csv = new StringBuilder();
        var header = string.Join("/", table.Options.RowColumns);
        csv.Append(string.Join(",", table.ColumnKeys.Prepend(header).Select(CsvField))).Append("\r\n");
        foreach (var (rowKey, cells) in Layout(table))
        {
            var values = cells.Select(cell => CellText(cell, part => part.Text, " ", ""));
            csv.Append(string.Join(",", values.Prepend(rowKey).Select(CsvField))).Append("\r\n");
        }
        return csv.ToString();
    }

    /// <summary>One <c>&lt;table&gt;</c> element (a fragment to embed), every text HTML-encoded, best values in &lt;b&gt;.</summary>
    public static string Html(SummaryTable table)
    {
        static string Encode(string text) => WebUtility.HtmlEncode(text);
        var caption = Caption(table, new CaptionStyle(t => $"<b>{Encode(t)}</b>", Encode));
        var html = new StringBuilder()
            .Append("<table class=\"farm-table\">\n<caption>").Append(caption).Append("</caption>\n<thead>\n<tr>")
            .Append("<th scope=\"col\">").Append(Encode(string.Join("/", table.Options.RowColumns))).Append("</th>");
        foreach (var columnKey in table.ColumnKeys)
        {
            html.Append("<th scope=\"col\">").Append(Encode(columnKey)).Append("</th>");
        }
        html.Append("</tr>\n</thead>\n<tbody>\n");
        foreach (var (rowKey, cells) in Layout(table))
        {
            html.Append("<tr><th scope=\"row\">").Append(Encode(rowKey)).Append("</th>");
            foreach (var cell in cells)
            {
                html.Append("<td>")
                    .Append(CellText(cell, part => part.Best ? $"<b>{Encode(part.Text)}</b>" : Encode(part.Text), " ", Missing, Encode))
                    .Append("</td>");
            }
            html.Append("</tr>\n");
        }
        return html.Append("</tbody>\n</table>\n").ToString();
    }

    /// <summary>Parts joined by '/', then the seed count; <paramref name="missing"/> where the cell has no result.</summary>
    private static string CellText(Shown cell, Func<Part, string> part, string beforeCount, string missing, Func<string, string>? escape = null)
    {
        if (cell.Parts.Count == 0)
        {
            return missing;
        }
        escape ??= t => t;
        var text = string.Join(escape("/"), cell.Parts.Select(part));
        return cell.Count is null ? text : text + beforeCount + escape(cell.Count);
    }

    /// <summary>Text in LaTeX: the ten special characters escaped, dashes and typographic signs spelled out.</summary>
    internal static string LatexEscape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '\\' => "\\textbackslash{}",
                '{' => "\\{",
                '}' => "\\}",
                '_' => "\\_",
                '%' => "\\%",
                '&' => "\\&",
                '#' => "\\#",
                '$' => "\\$",
                '~' => "\\textasciitilde{}",
                '^' => "\\textasciicircum{}",
                '—' => "--",
                '−' => "$-$",
                '±' => "$\\pm$",
                '×' => "$\\times$",
                _ => c.ToString(),
            });
        }
        return escaped.ToString();
    }

    /// <summary>An RFC 4180 field: quoted (quotes doubled) when it holds a comma, a quote or a line break.</summary>
    public static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
}
