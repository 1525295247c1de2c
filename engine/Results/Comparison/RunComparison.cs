namespace Farm.Engine.Results.Comparison;

/// <summary>
/// Compares a sweep's results with a previous run of the same spec: per <see cref="ComparisonGroup"/> and metric, the
/// mean over seeds before and now, and whether it dropped by more than the tolerance. Also lists groups that only one
/// run has. The nightly schedule writes the report beside each run's results; <c>farm compare</c> is the CLI form.
/// </summary>
public static class RunComparison
{
    /// <summary>
    /// Reads every result file below <paramref name="previousDirectory"/> and <paramref name="currentDirectory"/>
    /// (each one sweep's folder, <c>&lt;output&gt;/&lt;name&gt;/&lt;sweep id&gt;</c>, or its <c>cells</c> folder) and
    /// compares them. Throws a <see cref="FarmException"/> naming the folder or file when an input is missing, empty,
    /// unreadable or holds rows of several sweeps.
    /// </summary>
    public static ComparisonReport Compare(string previousDirectory, string currentDirectory,
        ComparisonOptions? options = null)
    {
        var metrics = (options ??= new ComparisonOptions()).Validate();
        var previous = ReadSweep(previousDirectory);
        var current = ReadSweep(currentDirectory);
        return Compare(previous, current, options, metrics);
    }

    /// <summary>
    /// Compares, then writes <c>regression.md</c> and <c>regression.json</c> into <paramref name="reportDirectory"/>,
    /// each atomically. Nothing is written when the comparison fails.
    /// </summary>
    public static ComparisonReport CompareAndWrite(string previousDirectory, string currentDirectory,
        string reportDirectory, ComparisonOptions? options = null)
    {
        var report = Compare(previousDirectory, currentDirectory, options);
        report.WriteTo(reportDirectory);
        return report;
    }

    /// <summary>Compares rows already read; each list is one run (see <see cref="RunInfo.Of"/>).</summary>
    public static ComparisonReport Compare(RunInfo previous, IReadOnlyList<ResultRow> previousRows,
        RunInfo current, IReadOnlyList<ResultRow> currentRows, ComparisonOptions? options = null)
    {
        var metrics = (options ??= new ComparisonOptions()).Validate();
        return Compare((previous, previousRows), (current, currentRows), options, metrics);
    }

    private static ComparisonReport Compare((RunInfo Info, IReadOnlyList<ResultRow> Rows) previous,
        (RunInfo Info, IReadOnlyList<ResultRow> Rows) current, ComparisonOptions options, IReadOnlyList<string> metrics)
    {
        var beforeKeys = previous.Rows.Select(ComparisonGroup.Of).ToHashSet();
        var nowKeys = current.Rows.Select(ComparisonGroup.Of).ToHashSet();

        var comparisons = new List<MetricComparison>();
        foreach (var metric in metrics)
        {
            // Threshold-independent metrics repeat on every method's row: compare them once per cell group.
            Func<ResultRow, ComparisonGroup> groupOf = ComparedMetrics.IsThresholdIndependent(metric)
                ? r => ComparisonGroup.Of(r).AnyThreshold
                : ComparisonGroup.Of;
            var beforeGroups = previous.Rows.ToLookup(groupOf);
            var nowGroups = current.Rows.ToLookup(groupOf);
            foreach (var group in beforeGroups)
            {
                if (!nowGroups.Contains(group.Key))
                {
                    continue; // reported as missing from the current run
                }
                var (previousMean, previousSeeds) = SeedMean(group, metric);
                var (currentMean, currentSeeds) = SeedMean(nowGroups[group.Key], metric);
                if (double.IsNaN(previousMean) && double.IsNaN(currentMean))
                {
                    continue; // undefined in both (e.g. pixel metrics without masks): nothing to compare
                }
                comparisons.Add(new MetricComparison(group.Key, metric, previousMean, currentMean, previousSeeds,
                    currentSeeds, options.ToleranceOf(metric)));
            }
        }

        return new ComparisonReport(
            previous.Info,
            current.Info,
            options,
            metrics,
            [.. comparisons.OrderBy(c => c.Group, ComparisonGroup.Order).ThenBy(c => IndexOf(metrics, c.Metric))],
            [.. beforeKeys.Where(k => !nowKeys.Contains(k)).Order(ComparisonGroup.Order)],
            [.. nowKeys.Where(k => !beforeKeys.Contains(k)).Order(ComparisonGroup.Order)]);
    }

    /// <summary>
    /// The mean over seeds (run seed × condition seed, the convention of <c>farm table</c>) of the seeds that have a
    /// value, and how many had one. One row per seed: a threshold-independent metric's rows of one cell are equal.
    /// </summary>
    private static (double Mean, int Seeds) SeedMean(IEnumerable<ResultRow> rows, string metric)
    {
        var values = rows
            .DistinctBy(r => (r.Seed, r.ConditionSeed))
            .Select(r => (double)ResultColumns.Get(r, metric)!)
            .Where(v => !double.IsNaN(v))
            .ToList();
        return values.Count == 0 ? (double.NaN, 0) : (values.Average(), values.Count);
    }

    private static int IndexOf(IReadOnlyList<string> metrics, string metric)
    {
        for (var i = 0; i < metrics.Count; i++)
        {
            if (metrics[i] == metric)
            {
                return i;
            }
        }
        return -1;
    }

    private static (RunInfo Info, IReadOnlyList<ResultRow> Rows) ReadSweep(string directory)
    {
        var fullPath = Path.GetFullPath(directory);
        var rows = ResultsParquet.ReadAll(fullPath);
        if (rows.Count == 0)
        {
            throw new FarmException("no result files (*.parquet) found", fullPath);
        }
        var info = RunInfo.Of(fullPath, rows);
        if (info.SweepIds.Count > 1)
        {
            throw new FarmException(
                $"holds the results of {info.SweepIds.Count} sweeps ({string.Join(", ", info.SweepIds)}); " +
                "give one sweep's folder, <output>/<name>/<sweep id>", fullPath);
        }
        return (info, rows);
    }
}

/// <summary>Which run a side of the comparison is: its folder, sweep ids and names, Farm versions and row count.</summary>
public sealed record RunInfo(
    string Path,
    IReadOnlyList<string> SweepIds,
    IReadOnlyList<string> SweepNames,
    IReadOnlyList<string> FarmVersions,
    int Rows)
{
    public static RunInfo Of(string path, IReadOnlyList<ResultRow> rows) => new(
        path,
        [.. rows.Select(r => r.SweepId).Distinct().Order(StringComparer.Ordinal)],
        [.. rows.Select(r => r.SweepName).Distinct().Order(StringComparer.Ordinal)],
        [.. rows.Select(r => r.FarmVersion).Distinct().Order(StringComparer.Ordinal)],
        rows.Count);
}
