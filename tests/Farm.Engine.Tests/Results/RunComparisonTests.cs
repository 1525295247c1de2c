using System.Text.Json;
using Farm.Engine.IO;
using Farm.Engine.Results;
using Farm.Engine.Results.Comparison;

namespace Farm.Engine.Tests.Results;

public sealed class RunComparisonTests : IDisposable
{
    private const double Exact = 1e-12;

    private readonly string root = Directory.CreateTempSubdirectory("farm-compare-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>
    /// Previous run: padim, patchcore and fastflow on mvtec/bottle, seeds 0 and 1, two threshold methods.
    /// Current run: padim's image AUROC drops 0.05 (beyond tolerance) and its pixel F1 at the f1max threshold 0.02;
    /// patchcore's image AUROC drops 0.005 (within) and its pixel AUPRO becomes null; fastflow is gone, cfa is new.
    /// </summary>
    private (string Previous, string Current) TwoRuns()
    {
        var previous = WriteSweep("20250101T020000Z-00000001",
        [
            .. Cell("padim", 0, auroc: 0.92, aupro: 0.80, f1: 0.50, iouF1: 0.40),
            .. Cell("padim", 1, auroc: 0.88, aupro: 0.82, f1: 0.52, iouF1: 0.42),
            .. Cell("patchcore", 0, auroc: 0.99, aupro: 0.90, f1: 0.60, iouF1: 0.55),
            .. Cell("patchcore", 1, auroc: 0.97, aupro: 0.92, f1: 0.62, iouF1: 0.57),
            .. Cell("fastflow", 0, auroc: 0.95, aupro: 0.85, f1: 0.45, iouF1: 0.40),
        ]);
        var current = WriteSweep("20250102T020000Z-00000002",
        [
            .. Cell("padim", 0, auroc: 0.86, aupro: 0.80, f1: 0.48, iouF1: 0.40),
            .. Cell("padim", 1, auroc: 0.84, aupro: 0.825, f1: 0.50, iouF1: 0.415),
            .. Cell("patchcore", 0, auroc: 0.985, aupro: double.NaN, f1: 0.60, iouF1: 0.55),
            .. Cell("patchcore", 1, auroc: 0.965, aupro: double.NaN, f1: 0.625, iouF1: 0.57),
            .. Cell("cfa", 0, auroc: 0.90, aupro: 0.70, f1: 0.40, iouF1: 0.30),
        ]);
        return (previous, current);
    }

    [Fact]
    public void FindsExactlyTheDropsBeyondToleranceTheNullMetricAndTheGroupsOnlyOneRunHas()
    {
        var (previous, current) = TwoRuns();

        var report = RunComparison.Compare(previous, current);

        // Compared: image_auroc and pixel_aupro once per cell group (padim, patchcore), pixel_f1 per threshold method.
        Assert.Equal(2 + 2 + 4, report.Comparisons.Count);
        Assert.Equal(
            [("patchcore", null, "pixel_aupro"), ("padim", null, "image_auroc"), ("padim", "f1max", "pixel_f1")],
            report.Regressions.Select(r => (r.Group.Model, r.Group.ThresholdMethod, r.Metric)));

        var auroc = report.Regressions.Single(r => r.Metric == "image_auroc");
        Assert.Equal(0.90, auroc.Previous, Exact);
        Assert.Equal(0.85, auroc.Current, Exact);
        Assert.Equal(-0.05, auroc.Change, Exact);
        Assert.Equal((2, 2), (auroc.PreviousSeeds, auroc.CurrentSeeds));
        Assert.Equal(ComparisonOutcome.Regressed, auroc.Outcome);

        var aupro = report.Regressions[0];
        Assert.Equal(ComparisonOutcome.BecameUndefined, aupro.Outcome);
        Assert.Equal(0.91, aupro.Previous, Exact);
        Assert.True(double.IsNaN(aupro.Current));
        Assert.Equal(0, aupro.CurrentSeeds);

        // Within tolerance: patchcore's AUROC (-0.005) and padim's AUPRO (+0.0025, mean over seeds).
        var patchcoreAuroc = report.Comparisons.Single(c => c.Group.Model == "patchcore" && c.Metric == "image_auroc");
        Assert.Equal(-0.005, patchcoreAuroc.Change, Exact);
        Assert.Equal(ComparisonOutcome.WithinTolerance, patchcoreAuroc.Outcome);
        Assert.Equal(ComparisonOutcome.WithinTolerance,
            report.Comparisons.Single(c => c.Group.Model == "padim" && c.Metric == "pixel_aupro").Outcome);

        Assert.Equal(["fastflow/resnet18 mvtec/bottle/all none 256 f1max", "fastflow/resnet18 mvtec/bottle/all none 256 iou"],
            report.MissingInCurrent.Select(g => g.Label));
        Assert.Equal(["cfa", "cfa"], report.NewInCurrent.Select(g => g.Model));
        Assert.True(report.HasFailures);
        Assert.Equal("3 regressions in 8 comparisons; 2 groups missing from the current run, 2 new.", report.SummaryLine);
    }

    [Fact]
    public void PerMetricToleranceReplacesTheDefaultForItsMetricOnly()
    {
        var (previous, current) = TwoRuns();

        var report = RunComparison.Compare(previous, current, new ComparisonOptions
        {
            MetricTolerances = new Dictionary<string, double> { ["image_auroc"] = 0.06 },
        });

        Assert.Equal(["pixel_aupro", "pixel_f1"], report.Regressions.Select(r => r.Metric));
        Assert.Equal(0.06, report.Comparisons.First(c => c.Metric == "image_auroc").Tolerance);
        Assert.Equal(0.01, report.Comparisons.First(c => c.Metric == "pixel_f1").Tolerance);
    }

    [Fact]
    public void MetricSelectionComparesOnlyTheChosenMetrics()
    {
        var (previous, current) = TwoRuns();

        var report = RunComparison.Compare(previous, current, new ComparisonOptions { Metrics = ["pixel_f1"] });

        Assert.Equal(["pixel_f1"], report.Metrics);
        Assert.Equal(4, report.Comparisons.Count);
        Assert.Equal(("padim", "f1max"), (report.Regressions.Single().Group.Model, report.Regressions.Single().Group.ThresholdMethod));
    }

    [Fact]
    public void ErrorRatesRegressWhenTheyRiseAndADropOfExactlyTheToleranceIsForgiven()
    {
        var before = new[]
        {
            ResultRows.Make(model: "a") with { ImageFpr = 0.10, ImageAuroc = 0.90 },
            ResultRows.Make(model: "b") with { ImageFpr = 0.30, ImageAuroc = 0.70 },
        };
        var after = new[]
        {
            ResultRows.Make(model: "a") with { ImageFpr = 0.15, ImageAuroc = 0.89 },
            ResultRows.Make(model: "b") with { ImageFpr = 0.20, ImageAuroc = 0.80 },
        };

        var report = RunComparison.Compare(RunInfo.Of("before", before), before, RunInfo.Of("after", after), after);

        var outcomes = report.Comparisons.ToDictionary(c => (c.Group.Model, c.Metric), c => c.Outcome);
        Assert.Equal(ComparisonOutcome.Regressed, outcomes[("a", "image_fpr")]);
        Assert.Equal(ComparisonOutcome.WithinTolerance, outcomes[("a", "image_auroc")]);
        Assert.Equal(ComparisonOutcome.Improved, outcomes[("b", "image_fpr")]);
        Assert.Equal(ComparisonOutcome.Improved, outcomes[("b", "image_auroc")]);
        Assert.Equal(("a", "image_fpr"), (report.Regressions.Single().Group.Model, report.Regressions.Single().Metric));
        Assert.Equal(2, report.Improvements);
    }

    [Fact]
    public void IdenticalRunsHaveNoFailures()
    {
        var (previous, _) = TwoRuns();
        var again = WriteSweep("20250103T020000Z-00000003", [.. ResultsParquet.ReadAll(previous).Select(r => r with
        {
            SweepId = "20250103T020000Z-00000003",
            TotalSeconds = r.TotalSeconds * 3, // timings and creation times are not measurements of quality
            CreatedUtc = r.CreatedUtc.AddDays(1),
        })]);

        var report = RunComparison.Compare(previous, again);

        Assert.False(report.HasFailures);
        Assert.Empty(report.Regressions);
        Assert.All(report.Comparisons, c => Assert.Equal(0, c.Change));
        Assert.Equal("0 regressions in 12 comparisons; 0 groups missing from the current run, 0 new.", report.SummaryLine);
    }

    [Fact]
    public void WritesMarkdownWithRegressionsFirstAndMachineReadableJson()
    {
        var (previous, current) = TwoRuns();
        var reportFolder = Path.Combine(current, "report");

        var report = RunComparison.CompareAndWrite(previous, current, reportFolder);

        Assert.Equal([ComparisonReport.JsonFileName, ComparisonReport.MarkdownFileName],
            Directory.GetFiles(reportFolder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var markdown = File.ReadAllText(Path.Combine(reportFolder, ComparisonReport.MarkdownFileName));
        Assert.Equal(report.ToMarkdown(), markdown);
        var tableRows = markdown.Split('\n').Where(l => l.StartsWith("| padim", StringComparison.Ordinal) ||
            l.StartsWith("| patchcore", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, tableRows.Count);
        Assert.Contains("| image_auroc | 0.9000 | 0.8500 | -0.0500 | 0.0100 | 2 → 2 |", tableRows[1]);
        Assert.Contains("| pixel_aupro | 0.9100 | null | — |", tableRows[0]);
        Assert.True(markdown.IndexOf("## Regressions", StringComparison.Ordinal) <
            markdown.IndexOf("## Missing from the current run", StringComparison.Ordinal));
        Assert.EndsWith("3 regressions in 8 comparisons; 2 groups missing from the current run, 2 new.\n",
            markdown.ReplaceLineEndings("\n"));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(reportFolder, ComparisonReport.JsonFileName)));
        var top = json.RootElement;
        Assert.Equal(3, top.GetProperty("regression_count").GetInt32());
        Assert.Equal(8, top.GetProperty("comparison_count").GetInt32());
        Assert.True(top.GetProperty("has_failures").GetBoolean());
        Assert.Equal(["20250101T020000Z-00000001"],
            top.GetProperty("previous").GetProperty("sweep_ids").EnumerateArray().Select(e => e.GetString()));
        var regressions = top.GetProperty("regressions").EnumerateArray().ToList();
        Assert.Equal(["pixel_aupro", "image_auroc", "pixel_f1"], regressions.Select(r => r.GetProperty("metric").GetString()));
        Assert.Equal(JsonValueKind.Null, regressions[0].GetProperty("current").ValueKind);
        Assert.Equal("became-null", regressions[0].GetProperty("outcome").GetString());
        Assert.Equal(JsonValueKind.Null, regressions[0].GetProperty("group").GetProperty("threshold_method").ValueKind);
        Assert.Equal("f1max", regressions[2].GetProperty("group").GetProperty("threshold_method").GetString());
        Assert.Equal(-0.05, regressions[1].GetProperty("change").GetDouble(), Exact);
        Assert.Equal(["fastflow", "fastflow"],
            top.GetProperty("missing_in_current").EnumerateArray().Select(g => g.GetProperty("model").GetString()));
        Assert.Equal(8, top.GetProperty("comparisons").GetArrayLength());
    }

    [Fact]
    public void AnUnreadableInputNamesTheFileAndLeavesTheOldReportUntouched()
    {
        var (previous, current) = TwoRuns();
        var broken = Path.Combine(current, ResultsLayout.CellsFolder, "mvtec+bottle+none+broken+seed0.parquet");
        File.WriteAllText(broken, "not parquet");
        var reportFolder = Path.Combine(root, "report");
        Directory.CreateDirectory(reportFolder);
        var markdown = Path.Combine(reportFolder, ComparisonReport.MarkdownFileName);
        File.WriteAllText(markdown, "the previous night's report");

        var error = Assert.Throws<FarmException>(() => RunComparison.CompareAndWrite(previous, current, reportFolder));

        Assert.Equal(broken, error.File);
        Assert.Equal([markdown], Directory.GetFiles(reportFolder));
        Assert.Equal("the previous night's report", File.ReadAllText(markdown));
    }

    [Fact]
    public void AFolderWithSeveralSweepsOrNoneIsRefusedByName()
    {
        TwoRuns();
        var sweepName = Path.Combine(root, "quick");

        var several = Assert.Throws<FarmException>(() => RunComparison.Compare(sweepName, sweepName));
        Assert.Equal(sweepName, several.File);
        Assert.Contains("2 sweeps", several.Message);

        var empty = Directory.CreateDirectory(Path.Combine(root, "empty")).FullName;
        Assert.Equal(empty, Assert.Throws<FarmException>(() => RunComparison.Compare(empty, empty)).File);
    }

    [Fact]
    public void UnknownMetricsAndNegativeTolerancesAreRefused()
    {
        var (previous, current) = TwoRuns();

        var threshold = Assert.Throws<FarmException>(() =>
            RunComparison.Compare(previous, current, new ComparisonOptions { Metrics = ["image_threshold"] }));
        Assert.Equal("metric", threshold.Field);
        var negative = Assert.Throws<FarmException>(() =>
            RunComparison.Compare(previous, current, new ComparisonOptions { Tolerance = -0.1 }));
        Assert.Equal("tolerance", negative.Field);
    }

    [Fact]
    public void AtomicWritesLeaveNoTemporaryFiles()
    {
        var (previous, current) = TwoRuns();

        RunComparison.CompareAndWrite(previous, current, current);
        RunComparison.CompareAndWrite(previous, current, current); // a second run replaces both files

        Assert.DoesNotContain(Directory.GetFiles(current), AtomicFile.IsTemporary);
        Assert.True(File.Exists(Path.Combine(current, ComparisonReport.JsonFileName)));
        // The report files beside the results are not result files: the cells still read back alone.
        Assert.Equal(5 * 2, ResultsParquet.ReadAll(current).Count);
    }

    private static IEnumerable<ResultRow> Cell(string model, int seed, double auroc, double aupro, double f1, double iouF1) =>
    [
        ResultRows.Make(model: model, seed: seed, threshold: "f1max", imageAuroc: auroc) with { PixelAupro = aupro, PixelF1 = f1 },
        ResultRows.Make(model: model, seed: seed, threshold: "iou", imageAuroc: auroc) with { PixelAupro = aupro, PixelF1 = iouF1 },
    ];

    private string WriteSweep(string sweepId, IEnumerable<ResultRow> rows)
    {
        var layout = new ResultsLayout(root, "quick", sweepId);
        foreach (var cell in rows.Select(r => r with { SweepId = sweepId }).GroupBy(r => r.CellId))
        {
            ResultsParquet.WriteCellFile(layout.CellFile(cell.Key), [.. cell]);
        }
        return layout.SweepRoot;
    }
}
