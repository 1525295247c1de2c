using System.CommandLine;
using Farm.Engine;
using Farm.Engine.Results;

namespace Farm.Client.Commands;

/// <summary>
/// `farm table RESULTS`: a paper-style table (mean ± std over seeds, or "a/b" means for several metrics, best per
/// column in bold) from result files, as Markdown, LaTeX, CSV or HTML.
/// </summary>
internal static class TableCommand
{
    public static Command Create()
    {
        var defaults = new SummaryTableOptions();
        var results = new Argument<DirectoryInfo>("results") { Description = "Folder holding result Parquet files (searched recursively)." };
        // --metric (one metric) is kept as an alias: older commands and the example specs' headers use it.
        var metrics = new Option<string>("--metrics", "--metric")
        {
            Description = "Metric column(s), joined with ',' (shown as a/b), or other numeric columns (epochs, epochs_run, thresholds, seconds).",
            DefaultValueFactory = _ => string.Join(',', defaults.Metrics),
        };
        var rows = new Option<string>("--rows") { Description = "Column(s) that name rows, joined with '/'.", DefaultValueFactory = _ => string.Join('/', defaults.RowColumns) };
        var cols = new Option<string>("--cols")
        {
            Description = "Column(s) that name columns, joined with '/'.",
            DefaultValueFactory = _ => string.Join('/', defaults.ColumnColumns),
        };
        var meanOver = new Option<string?>("--mean-over")
        {
            Description = "Column(s) averaged inside each cell, joined with '/' (e.g. category, for one column per dataset): each seed's value is their mean.",
        };
        var filters = new Option<string[]>("--filter")
        {
            Description = "Only rows with COLUMN=VALUE[,VALUE…] (repeatable; all must hold; an empty VALUE matches null). An axis of one filtered column follows the filter's order.",
            AllowMultipleArgumentsPerToken = false,
        };
        var meanColumn = new Option<string?>("--mean-col") { Description = "Add a last column of this name: the mean of each row's other columns (the papers' \"D\")." };
        var threshold = new Option<string?>("--threshold") { Description = "Only rows of this threshold method." };
        var defects = new Option<string>("--defect-category")
        {
            Description = "Only rows of this defect category ('all' = overall); 'any' keeps every category, e.g. for --cols defect_category.",
            DefaultValueFactory = _ => ResultRow.AllDefects,
        };
        var format = new Option<string>("--format")
        {
            Description = "Output format.",
            DefaultValueFactory = _ => "markdown",
        };
        format.AcceptOnlyFromAmong("markdown", "latex", "csv", "html");
        var command = new Command("table", "Print a paper-style table of metrics (mean ± std over seeds; a/b means for several), best per column in bold.")
        {
            results, metrics, rows, cols, meanOver, filters, meanColumn, threshold, defects, format,
        };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            var folder = parse.GetRequiredValue(results);
            if (!folder.Exists)
            {
                throw new FarmException("results folder does not exist", folder.FullName);
            }

            var loaded = ResultsParquet.ReadAll(folder.FullName);
            if (loaded.Count == 0)
            {
                throw new FarmException("no result files (*.parquet) found", folder.FullName);
            }

            var options = defaults with
            {
                Metrics = Split(parse.GetRequiredValue(metrics), ','),
                RowColumns = Split(parse.GetRequiredValue(rows), '/'),
                ColumnColumns = Split(parse.GetRequiredValue(cols), '/'),
                MeanOver = Split(parse.GetValue(meanOver) ?? "", '/'),
                Filters = [.. (parse.GetValue(filters) ?? []).Select(TableFilter.Parse)],
                MeanColumn = parse.GetValue(meanColumn),
                ThresholdMethod = parse.GetValue(threshold),
                DefectCategory = parse.GetRequiredValue(defects) is "any" ? null : parse.GetRequiredValue(defects),
            };
            var table = SummaryTable.Build(loaded, options);
            Console.Write(TableFormats.Render(table, TableFormats.Parse(parse.GetRequiredValue(format))));
            return Task.FromResult(CliErrors.Success);
        }));
        return command;
    }

    private static string[] Split(string text, char separator) =>
        text.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
