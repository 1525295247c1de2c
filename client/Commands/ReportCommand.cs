using System.CommandLine;
using Farm.Client.Report;
using Farm.Engine;
using Farm.Engine.IO;

namespace Farm.Client.Commands;

/// <summary>`farm report RESULTS --out report.html`: one self-contained HTML page of tables, anomaly maps and plots.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var results = new Argument<DirectoryInfo>("results") { Description = "Folder holding result Parquet files (searched recursively) and the cells' maps folders." };
        var output = new Option<FileInfo>("--out")
        {
            Description = "The HTML file to write (atomically).",
            DefaultValueFactory = _ => new FileInfo("report.html"),
        };
        var command = new Command("report", "Write a static, self-contained HTML report: summary tables, anomaly-map galleries, score histograms, per-category bars, metric-vs-condition plots.")
        {
            results, output,
        };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            var folder = parse.GetRequiredValue(results);
            if (!folder.Exists)
            {
                throw new FarmException("results folder does not exist", folder.FullName);
            }

            var target = parse.GetRequiredValue(output);
            var input = ReportInput.Load(folder.FullName);
            var html = HtmlReport.Render(input, DateTime.UtcNow);
            try
            {
                AtomicFile.WriteAllText(target.FullName, html);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new FarmException($"cannot write the report: {error.Message}", target.FullName, "--out", error);
            }

            Console.Error.WriteLine($"report: {input.Rows.Count} rows, {input.Galleries.Count} galleries -> {target.FullName} ({html.Length / 1024} KiB)");
            return Task.FromResult(CliErrors.Success);
        }));
        return command;
    }
}
