using System.Text.Json;
using Farm.Engine.Results;
using Farm.Engine.Tests.Results;

namespace Farm.Client.Tests;

/// <summary>`farm compare` as a process: the report on stdout, the files with --out, and the exit codes.</summary>
public sealed class CompareCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("farm-compare-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task ARegressionExitsOneAndIsWrittenToTheReportFolder()
    {
        var previous = WriteSweep("20250101T020000Z-00000001", padimAuroc: 0.90, patchcoreAuroc: 0.99);
        var current = WriteSweep("20250102T020000Z-00000002", padimAuroc: 0.80, patchcoreAuroc: 0.985);
        var reportFolder = Path.Combine(root, "report");

        var run = await FarmProcess.RunAsync(root, "compare", previous, current, "--out", reportFolder);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("| padim | resnet18 | mvtec | bottle | all | none | 256 | any | image_auroc | 0.9000 | 0.8000 | -0.1000 |", run.Stdout);
        Assert.DoesNotContain("| patchcore |", run.Stdout);
        Assert.Contains("1 regression in 2 comparisons; 0 groups missing from the current run, 0 new.", run.Stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(reportFolder, "regression.json")));
        Assert.Equal(1, json.RootElement.GetProperty("regression_count").GetInt32());
        Assert.Equal(run.Stdout, File.ReadAllText(Path.Combine(reportFolder, "regression.md")));
    }

    [Fact]
    public async Task AWiderToleranceForTheMetricExitsZero()
    {
        var previous = WriteSweep("20250101T020000Z-00000001", padimAuroc: 0.90, patchcoreAuroc: 0.99);
        var current = WriteSweep("20250102T020000Z-00000002", padimAuroc: 0.80, patchcoreAuroc: 0.985);

        var run = await FarmProcess.RunAsync(root, "compare", previous, current,
            "--metric", "image_auroc", "--metric-tolerance", "image_auroc=0.15");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("0 regressions in 2 comparisons", run.Stdout);
        Assert.False(File.Exists(Path.Combine(current, "regression.md"))); // files only with --out
    }

    [Fact]
    public async Task BadInputExitsTwoWithOneLineNamingIt()
    {
        var previous = WriteSweep("20250101T020000Z-00000001", padimAuroc: 0.90, patchcoreAuroc: 0.99);
        var missing = Path.Combine(root, "nowhere");

        var run = await FarmProcess.RunAsync(root, "compare", previous, missing);
        var unknown = await FarmProcess.RunAsync(root, "compare", previous, previous, "--metric", "accuracy");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"error: {missing}: results folder not found", run.Stderr.Trim());
        Assert.Equal(2, unknown.ExitCode);
        Assert.StartsWith("error: metric: 'accuracy' is not a compared metric", unknown.Stderr.Trim());
    }

    private string WriteSweep(string sweepId, double padimAuroc, double patchcoreAuroc)
    {
        var layout = new ResultsLayout(root, "quick", sweepId);
        foreach (var (model, auroc) in new[] { ("padim", padimAuroc), ("patchcore", patchcoreAuroc) })
        {
            var row = ResultRows.Make(model, imageAuroc: auroc, configHash: $"hash-{model}") with { SweepId = sweepId };
            ResultsParquet.WriteCellFile(layout.CellFile(row.CellId), [row]);
        }
        return layout.SweepRoot;
    }
}
