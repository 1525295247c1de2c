using System.Text.RegularExpressions;
using System.Xml.Linq;
using Farm.Engine.Results;

namespace Farm.Engine.Tests.Results;

/// <summary>
/// farm table's cells (a/b parts, bold best, seed counts, filters, averaged products, the mean column) and its four
/// formats: valid LaTeX, CSV that parses back (RFC 4180), well-formed HTML, Markdown, all with the same numbers.
/// </summary>
public partial class SummaryTableFormatTests
{
    private static ResultRow Run(string model, string category, int seed, double auroc, double fpr, string dataset = "mvtec") =>
        ResultRows.Make(model, dataset, category, seed, "f1max", auroc, $"{dataset}-{category}-{model}-{seed}") with { ImageFpr = fpr, ImagePg2 = auroc / 2 };

    [Fact]
    public void SeveralMetricsShowAsMeansWithTheBestOfEachPartInBold()
    {
        // padim: auroc (0.90, 0.94) → 92.0, fpr (0.20, 0.10) → 15.0; patchcore: auroc 0.96 → 96.0, fpr 0.30 → 30.0.
        ResultRow[] rows =
        [
            Run("padim", "bottle", 0, 0.90, 0.20), Run("padim", "bottle", 1, 0.94, 0.10),
            Run("patchcore", "bottle", 0, 0.96, 0.30), Run("patchcore", "bottle", 1, 0.96, 0.30),
        ];
        var table = SummaryTable.Build(rows, new() { Metrics = ["image_auroc", "image_fpr"], ThresholdMethod = "f1max" });

        var markdown = table.ToMarkdown();
        // Higher is better for AUROC, lower for the false-positive rate: each part has its own best.
        Assert.Contains("| padim | 92.0/**15.0** |", markdown);
        Assert.Contains("| patchcore | **96.0**/30.0 |", markdown);
        Assert.StartsWith("**image_auroc/image_fpr** (%): means over seeds, one per metric in the order named (sample std omitted in a/b cells", markdown);
        Assert.Equal(2, table.Parts("padim", "mvtec/bottle")!.Count);
        Assert.Equal(0.15, table.Parts("padim", "mvtec/bottle")![1].Mean, 12);
    }

    [Fact]
    public void TiesAreAllBoldAndColumnsWithOneValueOrNoDirectionHaveNoBest()
    {
        ResultRow[] rows =
        [
            Run("padim", "bottle", 0, 0.9001, 0.1), Run("patchcore", "bottle", 0, 0.9004, 0.1), Run("draem", "bottle", 0, 0.5, 0.1),
            Run("padim", "screw", 0, 0.7, 0.1),
        ];
        var table = SummaryTable.Build(rows, new() { Metrics = ["image_auroc", "epochs"] });

        var markdown = table.ToMarkdown();
        // 90.01 and 90.04 both show as 90.0: the shown numbers tie, so both are bold; epochs have no better direction.
        Assert.Contains("| padim | **90.0**/n/a | 70.0/n/a |", markdown);
        Assert.Contains("| patchcore | **90.0**/n/a | — |", markdown);
        Assert.Contains("| draem | 50.0/n/a | — |", markdown);
        Assert.Contains("(% except epochs)", markdown);
        Assert.Contains("bold", markdown);
        Assert.DoesNotContain("**", SummaryTable.Build(rows, new() { Metrics = ["image_auroc"], MarkBest = false }).ToMarkdown().Split('\n', 2)[1]);
    }

    [Fact]
    public void SeedCountsAreShownInEveryCellWhenOneCellMissesASeed()
    {
        ResultRow[] rows =
        [
            Run("padim", "bottle", 0, 0.9, 0.1), Run("padim", "bottle", 1, 0.8, 0.1), Run("padim", "bottle", 2, 0.7, 0.1),
            Run("patchcore", "bottle", 0, 0.9, 0.1), Run("patchcore", "bottle", 1, 0.9, 0.1),
        ];
        var markdown = SummaryTable.Build(rows, new() { Metrics = ["image_auroc", "image_pg2"] }).ToMarkdown();

        Assert.Contains("| padim | 80.0/40.0 (n=3) |", markdown);
        Assert.Contains("| patchcore | **90.0**/**45.0** (n=2) |", markdown);
        // A metric undefined in one run shows its own count.
        var partial = SummaryTable.Build([.. rows, Run("draem", "bottle", 0, 0.6, 0.1), Run("draem", "bottle", 1, 0.6, 0.1) with { ImagePg2 = double.NaN }],
            new() { Metrics = ["image_auroc", "image_pg2"] });
        Assert.Contains("| draem | 60.0/30.0 (n=2/1) |", partial.ToMarkdown());
    }

    [Fact]
    public void FiltersKeepMatchingRowsAndOrderTheirAxis()
    {
        ResultRow[] rows =
        [
            Run("padim", "bottle", 0, 0.9, 0.1), Run("patchcore", "bottle", 0, 0.8, 0.1), Run("draem", "bottle", 0, 0.7, 0.1),
            Run("padim", "screw", 0, 0.6, 0.1), Run("patchcore", "screw", 0, 0.5, 0.1),
        ];

        var table = SummaryTable.Build(rows, new()
        {
            Filters = [TableFilter.Parse("model=patchcore,padim"), TableFilter.Parse("category=bottle")],
        });

        Assert.Equal(["patchcore", "padim"], table.RowKeys); // the filter's order, not the alphabet
        Assert.Equal(["mvtec/bottle"], table.ColumnKeys);
        Assert.Equal(0.8, table["patchcore", "mvtec/bottle"]!.Mean);
        Assert.Contains("filters: model=patchcore,padim; category=bottle", table.ToMarkdown());

        var unknown = Assert.Throws<FarmException>(() => SummaryTable.Build(rows, new() { Filters = [TableFilter.Parse("colour=red")] }));
        Assert.StartsWith("--filter: unknown result column 'colour'", unknown.Message);
        var none = Assert.Throws<FarmException>(() => SummaryTable.Build(rows, new() { Filters = [TableFilter.Parse("model=vae")] }));
        Assert.StartsWith("--filter: no result rows match the filters (model=vae)", none.Message);
        Assert.Throws<FarmException>(() => TableFilter.Parse("model"));
        // An empty value matches a null: clean runs have no condition parameter.
        var clean = SummaryTable.Build(rows, new() { Filters = [TableFilter.Parse("condition_parameter=")] });
        Assert.Equal(3, clean.RowKeys.Count);
    }

    [Fact]
    public void MeanOverAveragesProductsWithinEachSeedAndDropsASeedMissingForOne()
    {
        // bottle: 0.9, 0.8, 0.7; screw: 0.5, 0.6 (seed 2 missing). Seed 0: 0.7, seed 1: 0.7; seed 2 is left out.
        ResultRow[] rows =
        [
            Run("padim", "bottle", 0, 0.9, 0.1), Run("padim", "bottle", 1, 0.8, 0.1), Run("padim", "bottle", 2, 0.7, 0.1),
            Run("padim", "screw", 0, 0.5, 0.1), Run("padim", "screw", 1, 0.6, 0.1),
            Run("padim", "carpet", 0, 0.2, 0.1, dataset: "other"), Run("padim", "carpet", 1, 0.4, 0.1, dataset: "other"),
        ];

        var table = SummaryTable.Build(rows, new() { ColumnColumns = ["dataset"], MeanOver = ["category"] });

        var mvtec = table["padim", "mvtec"]!;
        Assert.Equal(2, mvtec.Count);
        Assert.Equal(0.7, mvtec.Mean, 12);
        Assert.Equal(0.0, mvtec.StdDev, 12);
        Assert.Equal(0.3, table["padim", "other"]!.Mean, 12);
        Assert.Contains("each seed's value is the mean over category", table.ToMarkdown());
        // Without --mean-over, two products under one column are two configurations of one seed.
        var ex = Assert.Throws<FarmException>(() => SummaryTable.Build(rows, new() { ColumnColumns = ["dataset"] }));
        Assert.Contains("seed 0 2 times", ex.Message);
    }

    [Fact]
    public void TheMeanColumnAveragesEachRowsColumnsWhereTheRowHasThemAll()
    {
        ResultRow[] rows =
        [
            Run("padim", "bottle", 0, 0.9, 0.1), Run("padim", "screw", 0, 0.6, 0.1),
            Run("patchcore", "bottle", 0, 0.8, 0.1), Run("patchcore", "bottle", 1, 0.9, 0.1),
        ];

        var table = SummaryTable.Build(rows, new() { MeanColumn = "D" });

        Assert.Equal(["mvtec/bottle", "mvtec/screw", "D"], table.ColumnKeys);
        Assert.Equal(0.75, table["padim", "D"]!.Mean, 12);
        Assert.Equal(0, table["patchcore", "D"]!.Count); // no screw result: no mean
        var markdown = table.ToMarkdown();
        Assert.Contains("| padim | **90.0** (n=1) | 60.0 (n=1) | 75.0 |", markdown);
        Assert.Contains("| patchcore | 85.0 ± 7.1 (n=2) | — | n/a |", markdown);
        Assert.Contains("; D: mean of the other columns", markdown);
        Assert.Throws<FarmException>(() => SummaryTable.Build(rows, new() { MeanColumn = "mvtec/bottle" }));
    }

    [Fact]
    public void NumbersAreOrderedByValueAndNullsFirst()
    {
        ResultRow[] rows =
        [
            Run("padim", "bottle", 0, 0.9, 0.1) with { ImageSize = 1024, ConfigHash = "a" },
            Run("padim", "bottle", 0, 0.9, 0.1) with { ImageSize = 128, ConfigHash = "b" },
            Run("padim", "bottle", 0, 0.9, 0.1) with { ImageSize = 256, ConfigHash = "c", ConditionParameter = "0.16" },
        ];

        Assert.Equal(["128", "256", "1024"], SummaryTable.Build(rows, new() { ColumnColumns = ["image_size"] }).ColumnKeys);
        Assert.Equal(["—", "0.16"], SummaryTable.Build(rows.Skip(1), new() { ColumnColumns = ["condition_parameter"] }).ColumnKeys);
    }

    /// <summary>Rows whose names need escaping in every format, with two metrics and differing seed counts.</summary>
    private static SummaryTable Awkward(IReadOnlyList<string>? metrics = null)
    {
        ResultRow[] rows =
        [
            Run("pad_im 100%", "a&b, \"c\"", 0, 0.91, 0.2), Run("pad_im 100%", "a&b, \"c\"", 1, 0.93, 0.2),
            Run("x#y{z}|<b>", "a&b, \"c\"", 0, 0.85, 0.1),
            Run("x#y{z}|<b>", "tilde~hat^back\\slash $", 0, 0.5, 0.1), Run("pad_im 100%", "tilde~hat^back\\slash $", 0, 0.6, 0.3),
        ];
        return SummaryTable.Build(rows, new() { Metrics = metrics ?? ["image_auroc", "image_fpr"], ThresholdMethod = "f1max", ColumnColumns = ["category"] });
    }

    public static TheoryData<string> MetricSets => ["image_auroc", "image_auroc,image_fpr"];

    [Theory]
    [MemberData(nameof(MetricSets))]
    public void LatexIsBalancedWithOneAmpersandPerColumnAndEscapedText(string metrics)
    {
        var table = Awkward(metrics.Split(','));
        var latex = TableFormats.Latex(table);

        // Escaped braces are text; the others must balance and never close more than they opened.
        var structural = latex.Replace("\\{", "", StringComparison.Ordinal).Replace("\\}", "", StringComparison.Ordinal);
        var depth = 0;
        foreach (var c in structural)
        {
            depth += c == '{' ? 1 : c == '}' ? -1 : 0;
            Assert.True(depth >= 0, latex);
        }
        Assert.Equal(0, depth);
        var rowLines = latex.Split('\n').Where(line => line.EndsWith("\\\\", StringComparison.Ordinal)).ToList();
        Assert.Equal(1 + table.RowKeys.Count, rowLines.Count);
        Assert.All(rowLines, line => Assert.Equal(table.ColumnKeys.Count, UnescapedAmpersand().Matches(line).Count));
        // No bare _ % & # $ ~ ^ outside math ($\pm$ and $-$ are the only math).
        var text = latex.Replace("$\\pm$", "", StringComparison.Ordinal).Replace("$-$", "", StringComparison.Ordinal).Replace("$\\times$", "", StringComparison.Ordinal);
        Assert.Empty(Regex.Matches(string.Join("\n", text.Split('\n').Select(l => l.Replace(" & ", " ", StringComparison.Ordinal))), @"(?<!\\)[_%&#$]"));
        Assert.Contains("pad\\_im 100\\%", latex);
        Assert.Contains("a\\&b, \"c\"", latex);
        Assert.Contains("x\\#y\\{z\\}|<b>", latex);
        Assert.Contains("tilde\\textasciitilde{}hat\\textasciicircum{}back\\textbackslash{}slash \\$", latex);
        Assert.Contains("\\textbf{", latex);
        Assert.StartsWith("\\begin{table}[ht]\n\\centering\n\\caption{", latex);
        Assert.Contains($"\\begin{{tabular}}{{l{new string('r', table.ColumnKeys.Count)}}}", latex);
    }

    [Theory]
    [MemberData(nameof(MetricSets))]
    public void CsvParsesBackToTheSameCellsAsEveryOtherFormat(string metrics)
    {
        var table = Awkward(metrics.Split(','));
        var csv = TableFormats.Csv(table);

        var records = Rfc4180.Parse(csv);
        Assert.Equal([["model", .. table.ColumnKeys], .. table.RowKeys.Select((row, i) => records[i + 1])], records);
        Assert.Equal(table.RowKeys, records.Skip(1).Select(r => r[0]));
        Assert.All(records, r => Assert.Equal(1 + table.ColumnKeys.Count, r.Count));
        Assert.DoesNotContain("**", csv);

        // The same shown cells in every format, markup removed: one rounding, one count note, everywhere.
        var cells = records.Skip(1).Select(r => r.Skip(1).Select(c => c.Length == 0 ? "—" : c).ToList()).ToList();
        Assert.Equal(cells, HtmlCells(TableFormats.Html(table)));
        Assert.Equal(cells, MarkdownCells(TableFormats.Markdown(table)));
        Assert.Equal(cells, LatexCells(TableFormats.Latex(table)));
        Assert.Contains(cells, row => row.Contains(metrics.Contains(',') ? "92.0/20.0 (n=2)" : "92.0 ± 1.4 (n=2)"));
    }

    [Fact]
    public void HtmlIsOneWellFormedTableWithEncodedTextAndBoldBest()
    {
        var table = Awkward();
        var html = TableFormats.Html(table);

        var root = XElement.Parse(html);
        Assert.Equal("table", root.Name.LocalName);
        Assert.NotNull(root.Element("caption"));
        var headers = root.Element("thead")!.Element("tr")!.Elements("th").Select(th => th.Value).ToList();
        Assert.Equal(["model", .. table.ColumnKeys], headers);
        var bodyRows = root.Element("tbody")!.Elements("tr").ToList();
        Assert.Equal(table.RowKeys, bodyRows.Select(tr => tr.Element("th")!.Value));
        Assert.All(bodyRows, tr => Assert.Equal(table.ColumnKeys.Count, tr.Elements("td").Count()));
        Assert.Contains("x#y{z}|<b>", bodyRows.Select(tr => tr.Element("th")!.Value)); // encoded, so it parses back as text
        Assert.DoesNotContain("<b>&", html, StringComparison.Ordinal);
        // Column a&b: auroc 92.0 (pad_im) vs 85.0, fpr 20.0 vs 10.0 (x#y); column tilde: auroc 60.0 (pad_im) vs 50.0,
        // fpr 30.0 vs 10.0 (x#y).
        var bold = bodyRows.Select(tr => tr.Elements("td").SelectMany(td => td.Elements("b")).Select(b => b.Value).ToList()).ToList();
        Assert.Equal([["92.0", "60.0"], ["10.0", "10.0"]], bold);
    }

    [Fact]
    public void MarkdownEscapesPipesInNames()
    {
        var markdown = TableFormats.Markdown(Awkward());
        Assert.Contains("| x#y{z}\\|<b> |", markdown);
        Assert.All(markdown.Split('\n').Skip(2).Where(l => l.Length > 0),
            line => Assert.Equal(2 + Awkward().ColumnKeys.Count, UnescapedPipe().Matches(line).Count));
    }

    [Fact]
    public void FormatNamesAreParsedAndUnknownOnesNamed()
    {
        Assert.Equal(TableFormat.Latex, TableFormats.Parse("latex"));
        Assert.Equal(TableFormat.Html, TableFormats.Parse("HTML"));
        Assert.StartsWith("--format: unknown table format 'pdf'", Assert.Throws<FarmException>(() => TableFormats.Parse("pdf")).Message);
    }

    private static List<List<string>> HtmlCells(string html) =>
        [.. XElement.Parse(html).Element("tbody")!.Elements("tr").Select(tr => tr.Elements("td").Select(td => td.Value).ToList())];

    private static List<List<string>> MarkdownCells(string markdown) =>
        [.. markdown.Split('\n').SkipWhile(l => !l.StartsWith("|:--", StringComparison.Ordinal)).Skip(1).Where(l => l.Length > 0)
            .Select(l => UnescapedPipe().Split(l.Trim('|')).Skip(1).Select(c => c.Trim().Replace("**", "", StringComparison.Ordinal).Replace("\\|", "|", StringComparison.Ordinal)).ToList())];

    private static List<List<string>> LatexCells(string latex) =>
        [.. latex.Split('\n').Where(l => l.EndsWith("\\\\", StringComparison.Ordinal)).Skip(1)
            .Select(l => UnescapedAmpersand().Split(l[..^2]).Skip(1).Select(c => Regex.Replace(c.Trim(), @"\\textbf\{([^}]*)\}", "$1")
                .Replace("$\\pm$", "±", StringComparison.Ordinal).Replace("--", "—", StringComparison.Ordinal)).ToList())];

    [GeneratedRegex(@"(?<!\\)&")]
    private static partial Regex UnescapedAmpersand();

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex UnescapedPipe();
}
