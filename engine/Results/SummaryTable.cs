using System.Globalization;

namespace Farm.Engine.Results;

/// <summary>What a <see cref="SummaryTable"/> shows. Column names are result columns (docs/results-schema.md).</summary>
public sealed record SummaryTableOptions
{
    /// <summary>
    /// The metrics (or other numeric columns) of every cell; several show as "a/b" (each part a mean over seeds), the
    /// way Baitieva et al. print im.AUROC/im.PG2.
    /// </summary>
    public IReadOnlyList<string> Metrics { get; init; } = ["image_auroc"];

    /// <summary>One metric: shorthand for <see cref="Metrics"/> with one entry (the first one when read).</summary>
    public string Metric
    {
        get => Metrics[0];
        init => Metrics = [value];
    }

    /// <summary>Table rows: one per distinct combination of these columns' values.</summary>
    public IReadOnlyList<string> RowColumns { get; init; } = ["model"];

    /// <summary>Table columns: one per distinct combination, shown joined by '/' (e.g. <c>mvtec/bottle</c>).</summary>
    public IReadOnlyList<string> ColumnColumns { get; init; } = ["dataset", "category"];

    /// <summary>
    /// Columns averaged inside a cell (e.g. <c>category</c> for one column per dataset): each seed's value is the mean
    /// over these columns' values, then cells are mean ± std over seeds. A seed missing for one of them is left out.
    /// </summary>
    public IReadOnlyList<string> MeanOver { get; init; } = [];

    /// <summary>Only rows whose column values are among the filter's (every filter must hold).</summary>
    public IReadOnlyList<TableFilter> Filters { get; init; } = [];

    /// <summary>When set, a last column of this name averages each row's other columns (the papers' "D").</summary>
    public string? MeanColumn { get; init; }

    /// <summary>Required for threshold-dependent metrics; optional (any one row per cell is used) otherwise.</summary>
    public string? ThresholdMethod { get; init; }

    /// <summary>Rows of this defect category only; null keeps all (to put defect_category on an axis).</summary>
    public string? DefectCategory { get; init; } = ResultRow.AllDefects;

    /// <summary>Show metrics × 100, as papers do. Columns that are not [0, 1] metrics (epochs, thresholds, seconds) are never scaled.</summary>
    public bool AsPercent { get; init; } = true;

    public int Decimals { get; init; } = 1;

    /// <summary>Mark the best value of each column (per metric) in bold.</summary>
    public bool MarkBest { get; init; } = true;
}

/// <summary>
/// <c>COLUMN=VALUE[,VALUE…]</c>: keep rows whose column, formatted as in table keys, is one of the values; an empty
/// value (or "—") matches a null. An axis of one filtered column lists its keys in the filter's order.
/// </summary>
public sealed record TableFilter(string Column, IReadOnlyList<string> Values)
{
    public static TableFilter Parse(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new FarmException($"'{text}' is not COLUMN=VALUE[,VALUE…]", field: "--filter");
        }
        return new TableFilter(text[..equals].Trim(), [.. text[(equals + 1)..].Split(',').Select(v => v.Trim())]);
    }

    public override string ToString() => $"{Column}={string.Join(',', Values)}";
}

/// <summary>
/// Mean and sample standard deviation (n − 1) of one metric over the replicates of one table cell, in the metric's own
/// units. A replicate is a run seed × condition seed (drift and noisy-label seeds are repeats of one experiment, as in
/// Baitieva et al.). <see cref="Count"/> counts defined values (NaN ones are left out); <see cref="StdDev"/> is NaN below two.
/// </summary>
public sealed record SummaryCell(double Mean, double StdDev, int Count);

/// <summary>Which way a shown column improves, for marking the best value.</summary>
public enum Better
{
    Neither,
    Higher,
    Lower,
}

/// <summary>
/// A paper-style table of one or more metrics: "mean ± std" over seeds (run seed × condition seed) per (row, column),
/// or "a/b" means for several metrics. Results are first reduced to one row per run (config hash): threshold-method
/// rows of a cell share threshold-independent metrics and would otherwise count each seed several times, and a cell
/// re-run in a later sweep counts once, with its latest result. Rendered by <see cref="TableFormats"/>.
/// </summary>
public sealed class SummaryTable
{
    // Lower is better for error rates and wall-clock times; thresholds, epochs and counts have no better direction.
    private static readonly HashSet<string> LowerIsBetter =
        ["image_fpr", "image_fnr", "fit_seconds", "predict_seconds", "metrics_seconds", "total_seconds"];

    private static readonly HashSet<string> Unscaled = ["image_threshold", "pixel_threshold"];

    private readonly Dictionary<(string Row, string Column), SummaryCell[]> cells;

    private SummaryTable(SummaryTableOptions options, IReadOnlyList<bool> percent, IReadOnlyList<string> rowKeys,
        IReadOnlyList<string> columnKeys, Dictionary<(string, string), SummaryCell[]> cells, bool poolsConditionSeeds)
    {
        Options = options;
        Percent = percent;
        PoolsConditionSeeds = poolsConditionSeeds;
        RowKeys = rowKeys;
        ColumnKeys = columnKeys;
        this.cells = cells;
    }

    public SummaryTableOptions Options { get; }

    /// <summary>Per metric: whether it is shown × 100.</summary>
    public IReadOnlyList<bool> Percent { get; }

    public IReadOnlyList<string> RowKeys { get; }

    /// <summary>The column keys, the mean column (<see cref="SummaryTableOptions.MeanColumn"/>) last when there is one.</summary>
    public IReadOnlyList<string> ColumnKeys { get; }

    /// <summary>True when some cell pools runs of several condition seeds (e.g. drift seeds) beside run seeds.</summary>
    public bool PoolsConditionSeeds { get; }

    /// <summary>The first metric's cell, or null where no result has that row and column.</summary>
    public SummaryCell? this[string rowKey, string columnKey] => Parts(rowKey, columnKey)?[0];

    /// <summary>The cell's parts, one per metric, or null where no result has that row and column.</summary>
    public IReadOnlyList<SummaryCell>? Parts(string rowKey, string columnKey) =>
        cells.TryGetValue((rowKey, columnKey), out var parts) ? parts : null;

    /// <summary>True when cells rest on different numbers of seeds; every format then shows n in each cell.</summary>
    public bool SeedCountsDiffer => cells
        .Where(c => c.Key.Column != Options.MeanColumn)
        .SelectMany(c => c.Value).Where(c => c.Count > 0).Select(c => c.Count).Distinct().Count() > 1;

    /// <summary>The seed count shared by every cell, or 0 when they differ or none has values.</summary>
    internal int CommonSeedCount => SeedCountsDiffer
        ? 0
        : cells.Where(c => c.Key.Column != Options.MeanColumn).SelectMany(c => c.Value).Select(c => c.Count).FirstOrDefault(n => n > 0);

    /// <summary>Which way metric <paramref name="part"/> improves (for bold).</summary>
    public Better Direction(int part)
    {
        var name = Options.Metrics[part];
        return LowerIsBetter.Contains(name) ? Better.Lower
            : ResultColumns.Find(name).IsMetric && !Unscaled.Contains(name) ? Better.Higher
            : Better.Neither;
    }

    public static SummaryTable Build(IEnumerable<ResultRow> rows, SummaryTableOptions? options = null)
    {
        options ??= new SummaryTableOptions();
        // Table options come from users (farm table's flags), so mistakes are FarmExceptions naming the option.
        if (options.Metrics.Count == 0)
        {
            throw new FarmException("no metric given", field: "--metrics");
        }
        var metrics = options.Metrics.Select(name => Column(name, "--metrics")).ToList();
        foreach (var metric in metrics)
        {
            if (!metric.IsNumeric)
            {
                throw new FarmException($"'{metric.Name}' is not a numeric column", field: "--metrics");
            }
            if (options.ThresholdMethod is null && ResultColumns.ThresholdDependent.Contains(metric.Name))
            {
                throw new FarmException(
                    $"'{metric.Name}' depends on the threshold method; choose one (--threshold)", field: "--metrics");
            }
        }
        var percent = metrics.Select(m => options.AsPercent && m.IsMetric && !Unscaled.Contains(m.Name)).ToList();
        options = options with { AsPercent = percent.Any(p => p) };
        var rowColumns = options.RowColumns.Select(name => Column(name, "--rows")).ToList();
        var columnColumns = options.ColumnColumns.Select(name => Column(name, "--cols")).ToList();
        var meanOver = options.MeanOver.Select(name => Column(name, "--mean-over")).ToList();
        var filters = options.Filters.Select(f => (Column: Column(f.Column, "--filter"), Values: f.Values.ToHashSet(StringComparer.Ordinal))).ToList();

        var kept = rows
            .Where(r => options.DefectCategory is null || r.DefectCategory == options.DefectCategory)
            .Where(r => options.ThresholdMethod is null || r.ThresholdMethod == options.ThresholdMethod)
            .Where(r => filters.All(f => f.Column.Value(r) is var value && (f.Values.Contains(Text(value)) || (value is null && f.Values.Contains("")))))
            .ToList();
        if (kept.Count == 0 && filters.Count > 0)
        {
            throw new FarmException($"no result rows match the filters ({string.Join("; ", options.Filters)})", field: "--filter");
        }
        var runs = kept
            .GroupBy(r => (r.ConfigHash, r.DefectCategory))
            .Select(g => g
                .OrderByDescending(r => r.CreatedUtc)
                .ThenByDescending(r => r.SweepId, StringComparer.Ordinal)
                .ThenBy(r => r.ThresholdMethod, StringComparer.Ordinal)
                .First())
            .ToList();

        var cells = new Dictionary<(string, string), SummaryCell[]>();
        var poolsConditionSeeds = false;
        foreach (var group in runs.GroupBy(r => (Row: Key(r, rowColumns), Column: Key(r, columnColumns))))
        {
            // Two runs with one replicate (seed, condition seed) in one cell (and one averaged key) means
            // configurations that differ in a column the table ignores.
            var repeated = group.GroupBy(r => (r.Seed, r.ConditionSeed, Averaged: Key(r, meanOver))).FirstOrDefault(g => g.Count() > 1);
            if (repeated is not null)
            {
                var replicate = repeated.Key.ConditionSeed is { } conditionSeed
                    ? string.Create(CultureInfo.InvariantCulture, $"seed {repeated.Key.Seed} with condition seed {conditionSeed}")
                    : string.Create(CultureInfo.InvariantCulture, $"seed {repeated.Key.Seed}");
                var within = meanOver.Count > 0 ? $" for {repeated.Key.Averaged}" : "";
                throw new FarmException(
                    $"table cell ({group.Key.Row}, {group.Key.Column}) holds {replicate}{within} " +
                    $"{repeated.Count()} times, from runs with different configurations " +
                    $"({string.Join(", ", repeated.Select(r => r.CellId).Distinct())}); filter the rows or add the " +
                    "differing column to the row or column keys (or to --mean-over)", field: "--rows");
            }
            poolsConditionSeeds |= group.Select(r => r.ConditionSeed).Distinct().Count() > 1;
            cells[group.Key] = [.. metrics.Select(metric => Summarise(ReplicateValues(group.ToList(), metric, meanOver)))];
        }

        var filterOrder = options.Filters.ToDictionary(f => f.Column, f => f.Values, StringComparer.Ordinal);
        var rowKeys = OrderKeys(runs, rowColumns, filterOrder);
        var columnKeys = OrderKeys(runs, columnColumns, filterOrder).Where(k => cells.Keys.Any(c => c.Item2 == k)).ToList();
        rowKeys = [.. rowKeys.Where(k => cells.Keys.Any(c => c.Item1 == k))];
        if (options.MeanColumn is { } meanColumn)
        {
            if (columnKeys.Contains(meanColumn))
            {
                throw new FarmException($"'{meanColumn}' is already a column of the table; choose another name", field: "--mean-col");
            }
            foreach (var rowKey in rowKeys)
            {
                cells[(rowKey, meanColumn)] = [.. metrics.Select((_, part) => MeanOfColumns(rowKey, columnKeys, cells, part))];
            }
            columnKeys.Add(meanColumn);
        }
        return new SummaryTable(options, percent, rowKeys, columnKeys, cells, poolsConditionSeeds);
    }

    /// <summary>
    /// One value per replicate (run seed × condition seed): the run's own value, or with <paramref name="meanOver"/>
    /// the mean over the averaged keys, for replicates that have a defined value for every key of the cell.
    /// </summary>
    private static List<double> ReplicateValues(List<ResultRow> group, ResultColumn metric, List<ResultColumn> meanOver)
    {
        if (meanOver.Count == 0)
        {
            return [.. group.Select(r => ValueOf(metric, r)).Where(v => !double.IsNaN(v))];
        }
        var averagedKeys = group.Select(r => Key(r, meanOver)).Distinct().Count();
        return [.. group.GroupBy(r => (r.Seed, r.ConditionSeed))
            .OrderBy(g => g.Key.Seed).ThenBy(g => g.Key.ConditionSeed)
            .Select(g => g.Select(r => ValueOf(metric, r)).ToList())
            .Where(values => values.Count == averagedKeys && values.All(v => !double.IsNaN(v)))
            .Select(values => values.Average())];
    }

    /// <summary>The mean of a row's column means; undefined unless every column has a value (a partial mean misleads).</summary>
    private static SummaryCell MeanOfColumns(string rowKey, IReadOnlyList<string> columnKeys,
        Dictionary<(string, string), SummaryCell[]> cells, int part)
    {
        var means = columnKeys.Select(c => cells.TryGetValue((rowKey, c), out var parts) ? parts[part].Mean : double.NaN).ToList();
        return means.Count == 0 || means.Any(double.IsNaN)
            ? new SummaryCell(double.NaN, double.NaN, 0)
            : new SummaryCell(means.Average(), double.NaN, means.Count);
    }

    private static double ValueOf(ResultColumn metric, ResultRow row) =>
        metric.Value(row) is { } value ? Convert.ToDouble(value, CultureInfo.InvariantCulture) : double.NaN;

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

    /// <summary>A value of metric <paramref name="part"/>, scaled and rounded as every format shows it.</summary>
    public string Number(double value, int part = 0)
    {
        var scale = Percent[part] ? 100.0 : 1.0;
        return (value * scale).ToString("F" + Options.Decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>"mean ± std" (or "mean" for one value, "n/a" for none), scaled and rounded as the options say.</summary>
    public string Format(SummaryCell cell, bool showCount = false)
    {
        var text = cell.Count switch
        {
            0 => "n/a",
            _ when double.IsNaN(cell.StdDev) => Number(cell.Mean),
            _ => Number(cell.Mean) + " ± " + Number(cell.StdDev),
        };
        return showCount && cell.Count > 0 ? text + string.Create(CultureInfo.InvariantCulture, $" (n={cell.Count})") : text;
    }

    public string ToMarkdown() => TableFormats.Markdown(this);

    /// <summary>Keys of an axis, ordered column by column: a filtered column in its filter's order, numbers by value,
    /// nulls first, other text ordinally.</summary>
    private static List<string> OrderKeys(List<ResultRow> runs, List<ResultColumn> columns,
        Dictionary<string, IReadOnlyList<string>> filterOrder)
    {
        var byKey = new Dictionary<string, object?[]>();
        foreach (var run in runs)
        {
            byKey.TryAdd(Key(run, columns), [.. columns.Select(c => c.Value(run))]);
        }
        var comparer = Comparer<object?[]>.Create((a, b) =>
        {
            for (var i = 0; i < columns.Count; i++)
            {
                var order = Compare(a[i], b[i], filterOrder.GetValueOrDefault(columns[i].Name));
                if (order != 0)
                {
                    return order;
                }
            }
            return 0;
        });
        return [.. byKey.OrderBy(k => k.Value, comparer).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => k.Key)];
    }

    private static int Compare(object? a, object? b, IReadOnlyList<string>? filterValues)
    {
        if (filterValues is not null)
        {
            var order = Position(a, filterValues).CompareTo(Position(b, filterValues));
            if (order != 0)
            {
                return order;
            }
        }
        if (a is null || b is null)
        {
            return (a is null ? 0 : 1) - (b is null ? 0 : 1);
        }
        var (textA, textB) = (Text(a), Text(b));
        return double.TryParse(textA, NumberStyles.Float, CultureInfo.InvariantCulture, out var numberA) &&
               double.TryParse(textB, NumberStyles.Float, CultureInfo.InvariantCulture, out var numberB)
            ? numberA.CompareTo(numberB)
            : string.CompareOrdinal(textA, textB);
    }

    private static int Position(object? value, IReadOnlyList<string> filterValues)
    {
        var text = value is null ? NullKey : Text(value);
        var index = filterValues.ToList().FindIndex(v => v == text || (value is null && v.Length == 0));
        return index < 0 ? int.MaxValue : index;
    }

    private const string NullKey = "—";

    private static string Key(ResultRow row, IReadOnlyList<ResultColumn> columns) =>
        string.Join("/", columns.Select(c => c.Value(row) is { } value ? Text(value) : NullKey));

    private static string Text(object? value) => value switch
    {
        null => NullKey,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? NullKey,
    };
}
