using System.CommandLine;
using Farm.Engine;
using Farm.Engine.Results;

namespace Farm.Client.Commands;

/// <summary>`farm table RESULTS`: a paper-style Markdown table (mean ± std over seeds) from result files.</summary>
internal static class TableCommand
{
    public static Command Create()
    {
        var defaults = new SummaryTableOptions();
        var results = new Argument<DirectoryInfo>("results") { Description = "Folder holding result Parquet files (searched recursively)." };
        var metric = new Option<string>("--metric") { Description = "Metric column, or another numeric column (epochs, epochs_run, thresholds, seconds).", DefaultValueFactory = _ => defaults.Metric };
        var rows = new Option<string>("--rows") { Description = "Column(s) that name rows, joined with '/'.", DefaultValueFactory = _ => string.Join('/', defaults.RowColumns) };
        var cols = new Option<string>("--cols")
        {
            Description = "Column(s) that name columns, joined with '/'.",
            DefaultValueFactory = _ => string.Join('/', defaults.ColumnColumns),
        };
        var threshold = new Option<string?>("--threshold") { Description = "Only rows of this threshold method." };
        var defects = new Option<string>("--defect-category")
        {
            Description = "Only rows of this defect category ('all' = overall); 'any' keeps every category, e.g. for --cols defect_category.",
            DefaultValueFactory = _ => ResultRow.AllDefects,
        };
        var command = new Command("table", "Print a Markdown table of one metric (or numeric column such as epochs), mean ± std over seeds.")
        {
            results, metric, rows, cols, threshold, defects,
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
                Metric = parse.GetRequiredValue(metric),
                RowColumns = parse.GetRequiredValue(rows).Split('/'),
                ColumnColumns = parse.GetRequiredValue(cols).Split('/'),
                ThresholdMethod = parse.GetValue(threshold),
                DefectCategory = parse.GetRequiredValue(defects) is "any" ? null : parse.GetRequiredValue(defects),
            };
            Console.WriteLine(SummaryTable.Build(loaded, options).ToMarkdown());
            return Task.FromResult(CliErrors.Success);
        }));
        return command;
    }
}
