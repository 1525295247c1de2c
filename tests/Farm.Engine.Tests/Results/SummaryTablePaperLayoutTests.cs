using System.Text.RegularExpressions;
using Farm.Engine.Results;
using Farm.Tests.Shared;

namespace Farm.Engine.Tests.Results;

/// <summary>
/// Each of Baitieva et al.'s Tables 4-9 is one documented command (README, "Reproducing the papers"): run on rows
/// shaped like that table's spec, it gives the paper's columns in the paper's order, and every part of every cell is
/// what LINQ computes here independently (per seed the mean over the averaged products, then the mean over seeds).
/// </summary>
public partial class SummaryTablePaperLayoutTests
{
    private static readonly string[] Models = ["padim", "trained"];

    private sealed record Condition(string Experiment, string? Parameter, int? Seed, int Size);

    public static TheoryData<string> PaperTables => ["Table 4", "Table 5", "Table 6", "Table 7", "Table 8", "Table 9"];

    [Theory]
    [MemberData(nameof(PaperTables))]
    public void TheDocumentedCommandBuildsThePapersLayout(string paperTable)
    {
        var command = DocumentedLayouts()[paperTable];
        var options = command.Options;
        var (rows, expectedColumns) = paperTable switch
        {
            "Table 4" or "Table 8" => (Rows([new("none", null, null, 256)]), new[] { "a", "b" }),
            "Table 5" => (Rows([new("none", null, null, 256), new("resolution", "128", null, 128), new("resolution", "512", null, 512)]),
                ["128", "256", "512"]),
            "Table 6" => (Rows([new("none", null, null, 256), .. Enumerable.Range(0, 3).Select(s => new Condition("drift", null, s, 256))]),
                ["none", "drift"]),
            "Table 7" => (Rows([new("none", null, null, 256), .. from rate in new[] { "0.04", "0.08", "0.16" }
                                                                   from s in Enumerable.Range(0, 3) select new Condition("noisy-labels", rate, s, 256)]),
                ["—", "0.04", "0.08", "0.16"]),
            "Table 9" => (Rows([new("none", null, null, 256), .. from strategy in new[] { "early-stopping", "fixed-epochs" }
                                                                   from s in Enumerable.Range(0, 3) select new Condition("validation-strategy", strategy, s, 256)],
                    seeds: [0]),
                ["fixed-epochs", "early-stopping"]),
            _ => throw new ArgumentOutOfRangeException(nameof(paperTable)),
        };

        var table = SummaryTable.Build(rows, options);

        Assert.Equal(Models, table.RowKeys);
        Assert.Equal(expectedColumns, table.ColumnKeys);
        Assert.True(options.Metrics.Count > 1, $"{paperTable}: the paper's cells hold several metrics");
        var kept = rows.Where(r => r.ThresholdMethod == "f1max" && options.Filters.All(f => f.Values.Contains(Axis(r, f.Column))));
        foreach (var model in Models)
        foreach (var column in expectedColumns)
        {
            var runs = kept.Where(r => r.Model == model && string.Join("/", options.ColumnColumns.Select(c => Axis(r, c))) == column).ToList();
            var parts = table.Parts(model, column)!;
            for (var part = 0; part < options.Metrics.Count; part++)
            {
                var metric = options.Metrics[part];
                // Per replicate (run seed × condition seed), the mean over the averaged products; then over replicates.
                var perSeed = runs.GroupBy(r => (r.Seed, r.ConditionSeed))
                    .Select(g => g.Average(r => Convert.ToDouble(ResultColumns.Get(r, metric), System.Globalization.CultureInfo.InvariantCulture)))
                    .ToList();
                Assert.Equal(perSeed.Count, parts[part].Count);
                Assert.Equal(perSeed.Average(), parts[part].Mean, 12);
            }
        }
        // The best of each column's first metric is bold in the Markdown.
        var markdown = table.ToMarkdown();
        Assert.Contains("; best per column in bold.", markdown);
        Assert.Equal(expectedColumns.Length, BoldFirstParts().Matches(markdown).Count);
    }

    [Fact]
    public void EveryPaperTableHasOneDocumentedCommand() =>
        Assert.Equal(["Table 4", "Table 5", "Table 6", "Table 7", "Table 8", "Table 9"], DocumentedLayouts().Keys.Order());

    /// <summary>
    /// Rows of two datasets of two products each, both models, the given seeds and conditions; an "iou" decoy row per
    /// run. Values vary per run so that means, bold marks and orders are not accidental.
    /// </summary>
    private static List<ResultRow> Rows(IReadOnlyList<Condition> conditions, int[]? seeds = null)
    {
        var random = new Random(1234);
        var rows = new List<ResultRow>();
        var i = 0;
        foreach (var dataset in new[] { "a", "b" })
        foreach (var category in new[] { "x", "y" })
        foreach (var condition in conditions)
        foreach (var model in Models)
        foreach (var seed in seeds ?? [0, 1, 2])
        {
            double Next() => Math.Round(0.3 + 0.7 * random.NextDouble(), 4);
            var row = ResultRows.Make(model, dataset, category, seed, "f1max", Next(), $"h{i++}") with
            {
                Experiment = condition.Experiment,
                ConditionParameter = condition.Parameter,
                ConditionSeed = condition.Seed,
                ImageSize = condition.Size,
                CellId = $"{dataset}/{category}/{condition.Experiment}-{condition.Parameter}-{condition.Seed}/{model}/seed{seed}",
                ImagePg2 = Next(),
                ImageF1Max = Next(),
                PixelAupro = Next(),
                PixelF1Max = Next(),
                Epochs = 10 + random.Next(30),
            };
            rows.Add(row);
            rows.Add(row with { ThresholdMethod = "iou" });
        }
        return rows;
    }

    private static string Axis(ResultRow row, string column) => ResultColumns.Get(row, column) switch
    {
        null => "—",
        IFormattable value => value.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        var value => value.ToString()!,
    };

    /// <summary>The "| Table N (…) | `farm table …` |" rows of README's paper-layout table, parsed as the CLI would.</summary>
    private static Dictionary<string, TableCommandLine> DocumentedLayouts()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(folder!.FullName, "Farm.sln")))
        {
            folder = folder.Parent;
        }
        var readme = File.ReadAllText(Path.Combine(folder.FullName, "README.md"));
        return LayoutRow().Matches(readme).ToDictionary(m => m.Groups["table"].Value, m => TableCommandLine.Parse(m.Groups["command"].Value, "README.md"));
    }

    [GeneratedRegex(@"(?m)^\| (?<table>Table [4-9]) \([^|]*\) \| `(?<command>farm table [^`]+)` \|$")]
    private static partial Regex LayoutRow();

    /// <summary>A bold first part of a cell: "| **12.3**" (then "/", or the cell's end).</summary>
    [GeneratedRegex(@"\| \*\*\d+\.\d\*\*")]
    private static partial Regex BoldFirstParts();
}
