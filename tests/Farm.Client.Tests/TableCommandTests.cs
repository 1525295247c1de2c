using Farm.Engine.Results;
using Farm.Engine.Tests.Results;

namespace Farm.Client.Tests;

/// <summary>`farm table` as a process: its flags reach the table, every format prints, bad flags exit 2 naming them.</summary>
public sealed class TableCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("farm-table-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string WriteResults()
    {
        var results = Path.Combine(root, "out");
        foreach (var (model, seed, auroc, experiment) in new[]
                 {
                     ("padim", 0, 0.90, "none"), ("padim", 1, 0.94, "none"), ("patchcore", 0, 0.97, "none"), ("patchcore", 1, 0.99, "none"),
                     ("padim", 0, 0.60, "drift"), ("patchcore", 0, 0.70, "drift"),
                 })
        {
            var row = ResultRows.Make(model, "mvtec", "bottle", seed, "f1max", auroc, $"{model}-{seed}-{experiment}") with
            {
                Experiment = experiment,
                ConditionSeed = experiment == "drift" ? 0 : null,
                ImagePg2 = auroc - 0.5,
            };
            ResultsParquet.WriteCellFile(Path.Combine(results, $"{model}-{seed}-{experiment}.parquet"), [row]);
        }
        return results;
    }

    [Fact]
    public async Task MetricsFiltersAndFormatsReachTheTable()
    {
        var results = WriteResults();

        var csv = await FarmProcess.RunAsync(root, "table", results, "--metrics", "image_auroc,image_pg2", "--cols", "experiment",
            "--filter", "experiment=none,drift", "--filter", "model=patchcore,padim", "--format", "csv");
        var alias = await FarmProcess.RunAsync(root, "table", results, "--metric", "image_auroc", "--filter", "experiment=none");
        var latex = await FarmProcess.RunAsync(root, "table", results, "--cols", "experiment", "--format", "latex");
        var html = await FarmProcess.RunAsync(root, "table", results, "--cols", "experiment", "--format", "html");

        Assert.True(csv.ExitCode == 0, csv.ToString());
        // patchcore first (the filter's order); none before drift; drift rests on one seed, so counts show.
        Assert.Equal([["model", "none", "drift"], ["patchcore", "98.0/48.0 (n=2)", "70.0/20.0 (n=1)"], ["padim", "92.0/42.0 (n=2)", "60.0/10.0 (n=1)"]],
            Rfc4180.Parse(csv.Stdout));
        Assert.True(alias.ExitCode == 0, alias.ToString());
        Assert.Contains("| patchcore | **98.0 ± 1.4** |", alias.Stdout);
        Assert.Contains("| padim | 92.0 ± 2.8 |", alias.Stdout);
        Assert.True(latex.ExitCode == 0, latex.ToString());
        Assert.Contains("patchcore & \\textbf{70.0} (n=1) & \\textbf{98.0 $\\pm$ 1.4} (n=2) \\\\", latex.Stdout);
        Assert.True(html.ExitCode == 0, html.ToString());
        Assert.StartsWith("<table class=\"farm-table\">", html.Stdout);
        Assert.Contains("<td><b>98.0 ± 1.4</b> (n=2)</td>", System.Net.WebUtility.HtmlDecode(html.Stdout));
    }

    [Fact]
    public async Task UnknownColumnsAndFormatsExitTwoNamingTheFlag()
    {
        var results = WriteResults();

        var filter = await FarmProcess.RunAsync(root, "table", results, "--filter", "colour=red");
        var noMatch = await FarmProcess.RunAsync(root, "table", results, "--filter", "model=vae");
        var format = await FarmProcess.RunAsync(root, "table", results, "--format", "pdf");
        var metric = await FarmProcess.RunAsync(root, "table", results, "--metrics", "image_auroc,accuracy");

        Assert.Equal(2, filter.ExitCode);
        Assert.StartsWith("error: --filter: unknown result column 'colour'", filter.Stderr.Trim());
        Assert.Equal(2, noMatch.ExitCode);
        Assert.StartsWith("error: --filter: no result rows match the filters (model=vae)", noMatch.Stderr.Trim());
        Assert.Equal(2, format.ExitCode);
        Assert.Contains("pdf", format.Stderr);
        Assert.Equal(2, metric.ExitCode);
        Assert.StartsWith("error: --metrics: unknown result column 'accuracy'", metric.Stderr.Trim());
    }
}
