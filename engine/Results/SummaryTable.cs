using System.Globalization;
using System.Text;

namespace Farm.Engine.Results;

/// <summary>What a <see cref="SummaryTable"/> shows. Column names are result columns (docs/results-schema.md).</summary>
public sealed record SummaryTableOptions
{
    public string Metric { get; init; } = "image_auroc";

    /// <summary>Table rows: one per distinct combination of these columns' values.</summary>
    public IReadOnlyList<string> RowColumns { get; init; } = ["model"];

    /// <summary>Table columns: one per distinct combination, shown joined by '/' (e.g. <c>mvtec/bottle</c>).</summary>
    public IReadOnlyList<string> ColumnColumns { get; init; } = ["dataset", "category"];

    /// <summary>Required for threshold-dependent metrics; optional (any one row per cell is used) otherwise.</summary>
    public string? ThresholdMethod { get; init; }

    /// <summary>Rows of this defect category only; null keeps all (to put defect_category on an axis).</summary>
    public string? DefectCategory { get; init; } = ResultRow.AllDefects;

    /// <summary>Show metrics × 100, as papers do. Columns that are not [0, 1] metrics (epochs, thresholds, seconds) are never scaled.</summary>
    public bool AsPercent { get; init; } = true;

    public int Decimals { get; init; } = 1;
}

/// <summary>
/// Mean and sample standard deviation (n − 1) of one metric over the replicates of one table cell, in the metric's own
/// units. A replicate is a run seed × condition seed (drift and noisy-label seeds are repeats of one experiment, as in
/// Baitieva et al.). <see cref="Count"/> counts defined values (NaN ones are left out); <see cref="StdDev"/> is NaN below two.
/// </summary>
public sealed record SummaryCell(double Mean, double StdDev, int Count);

/// <summary>
/// A paper-style table of one metric: "mean ± std" over seeds (run seed × condition seed) per (row, column). Results are first reduced to one row
/// per run (config hash): threshold-method rows of a cell share threshold-independent metrics and would otherwise count
/// each seed several times, and a cell re-run in a later sweep counts once, with its latest result.
/// </summary>
public sealed class SummaryTable
{
    private readonly Dictionary<(string Row, string Column), SummaryCell> cells;

    private SummaryTable(SummaryTableOptions options, IReadOnlyList<string> rowKeys, IReadOnlyList<string> columnKeys,
        Dictionary<(string, string), SummaryCell> cells, bool poolsConditionSeeds)
    {
        Options = options;
        PoolsConditionSeeds = poolsConditionSeeds;
        RowKeys = rowKeys;
        ColumnKeys = columnKeys;
        this.cells = cells;
    }

    public SummaryTableOptions Options { get; }
    public IReadOnlyList<string> RowKeys { get; }
    public IReadOnlyList<string> ColumnKeys { get; }

    /// <summary>True when some cell pools runs of several condition seeds (e.g. drift seeds) beside run seeds.</summary>
    public bool PoolsConditionSeeds { get; }

    /// <summary>The cell, or null where no result has that row and column.</summary>
    public SummaryCell? this[string rowKey, string columnKey] =>
        cells.TryGetValue((rowKey, columnKey), out var cell) ? cell : null;

    /// <summary>True when cells rest on different numbers of seeds; the Markdown then shows n in each cell.</summary>
    public bool SeedCountsDiffer => cells.Values.Where(c => c.Count > 0).Select(c => c.Count).Distinct().Count() > 1;

    public static SummaryTable Build(IEnumerable<ResultRow> rows, SummaryTableOptions? options = null)
    {
        options ??= new SummaryTableOptions();
        // Table options come from users (farm table's flags), so mistakes are FarmExceptions naming the option.
        var metric = Column(options.Metric, "--metric");
        if (!metric.IsNumeric)
        {
            throw new FarmException($"'{options.Metric}' is not a numeric column", field: "--metric");
        }
        options = options with { AsPercent = options.AsPercent && metric.IsMetric };
        if (options.ThresholdMethod is null && ResultColumns.ThresholdDependent.Contains(options.Metric))
        {
            throw new FarmException(
                $"'{options.Metric}' depends on the threshold method; choose one (--threshold)", field: "--metric");
        }
        var rowColumns = options.RowColumns.Select(name => Column(name, "--rows")).ToList();
        var columnColumns = options.ColumnColumns.Select(name => Column(name, "--cols")).ToList();

        var runs = rows
            .Where(r => options.DefectCategory is null || r.DefectCategory == options.DefectCategory)
            .Where(r => options.ThresholdMethod is null || r.ThresholdMethod == options.ThresholdMethod)
            .GroupBy(r => (r.ConfigHash, r.DefectCategory))
            .Select(g => g
                .OrderByDescending(r => r.CreatedUtc)
                .ThenByDescending(r => r.SweepId, StringComparer.Ordinal)
                .ThenBy(r => r.ThresholdMethod, StringComparer.Ordinal)
                .First());

        var cells = new Dictionary<(string, string), SummaryCell>();
        var poolsConditionSeeds = false;
        foreach (var group in runs.GroupBy(r => (Row: Key(r, rowColumns), Column: Key(r, columnColumns))))
        {
            // Two runs with one replicate (seed, condition seed) in one cell means configurations that differ in a
            // column the table ignores.
            var repeated = group.GroupBy(r => (r.Seed, r.ConditionSeed)).FirstOrDefault(g => g.Count() > 1);
            if (repeated is not null)
            {
                var replicate = repeated.Key.ConditionSeed is { } conditionSeed
                    ? string.Create(CultureInfo.InvariantCulture, $"seed {repeated.Key.Seed} with condition seed {conditionSeed}")
                    : string.Create(CultureInfo.InvariantCulture, $"seed {repeated.Key.Seed}");
                throw new FarmException(
                    $"table cell ({group.Key.Row}, {group.Key.Column}) holds {replicate} " +
                    $"{repeated.Count()} times, from runs with different configurations " +
                    $"({string.Join(", ", repeated.Select(r => r.CellId).Distinct())}); filter the rows or add the " +
                    "differing column to the row or column keys", field: "--rows");
            }
            poolsConditionSeeds |= group.Select(r => r.ConditionSeed).Distinct().Count() > 1;
            var values = group.Select(r => metric.Value(r) is { } value ? Convert.ToDouble(value, CultureInfo.InvariantCulture) : double.NaN)
                .Where(v => !double.IsNaN(v)).ToList();
            cells[group.Key] = Summarise(values);
        }
        var rowKeys = cells.Keys.Select(k => k.Item1).Distinct().Order(StringComparer.Ordinal).ToList();
        var columnKeys = cells.Keys.Select(k => k.Item2).Distinct().Order(StringComparer.Ordinal).ToList();
        return new SummaryTable(options, rowKeys, columnKeys, cells, poolsConditionSeeds);
    }

    private static ResultColumn Column(string name, string option) => ResultColumns.Names.Contains(name)
        ? ResultColumns.Find(name)
        : throw new FarmException($"unknown result column '{name}'; columns: {string.Join(", ", ResultColumns.Names)}", field: option);

    internal static SummaryCell Summarise(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return new SummaryCell(double.NaN, double.NaN, 0);
        }
        var mean = values.Average();
        var std = values.Count < 2
            ? double.NaN
            : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new SummaryCell(mean, std, values.Count);
    }

    /// <summary>"mean ± std" (or "mean" for one value, "n/a" for none), scaled and rounded as the options say.</summary>
    public string Format(SummaryCell cell, bool showCount = false)
    {
        var scale = Options.AsPercent ? 100.0 : 1.0;
        var format = "F" + Options.Decimals.ToString(CultureInfo.InvariantCulture);
        var text = cell.Count switch
        {
            0 => "n/a",
            1 => (cell.Mean * scale).ToString(format, CultureInfo.InvariantCulture),
            _ => (cell.Mean * scale).ToString(format, CultureInfo.InvariantCulture) + " ± " +
                 (cell.StdDev * scale).ToString(format, CultureInfo.InvariantCulture),
        };
        return showCount && cell.Count > 0 ? text + string.Create(CultureInfo.InvariantCulture, $" (n={cell.Count})") : text;
    }

    public string ToMarkdown()
    {
        var showCounts = SeedCountsDiffer;
        var seeds = showCounts
            ? "n = seeds per cell"
            : $"n = {cells.Values.Select(c => c.Count).FirstOrDefault(n => n > 0)} seeds";
        var caption = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"**{Options.Metric}**")
            .Append(Options.AsPercent ? " (%)" : "")
            .Append(": mean ± sample std (n − 1) over seeds")
            .Append(PoolsConditionSeeds ? " (run seed × condition seed)" : "").Append(", ").Append(seeds)
            .Append("; threshold method: ").Append(Options.ThresholdMethod ?? "any (metric does not depend on it)")
            .Append("; defect category: ").Append(Options.DefectCategory ?? "any").Append('.');

        var markdown = new StringBuilder().AppendLine(caption.ToString()).AppendLine();
        var header = Escape(string.Join("/", Options.RowColumns));
        markdown.AppendLine("| " + string.Join(" | ", ColumnKeys.Select(Escape).Prepend(header)) + " |");
        markdown.AppendLine("|:--|" + string.Concat(ColumnKeys.Select(_ => "--:|")));
        foreach (var rowKey in RowKeys)
        {
            var values = ColumnKeys.Select(c => this[rowKey, c] is { } cell ? Format(cell, showCounts) : "—");
            markdown.AppendLine("| " + string.Join(" | ", values.Prepend(Escape(rowKey))) + " |");
        }
        return markdown.ToString();
    }

    private static string Key(ResultRow row, IReadOnlyList<ResultColumn> columns) =>
        string.Join("/", columns.Select(c => c.Value(row) switch
        {
            null => "—",
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            var value => value.ToString(),
        }));

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
