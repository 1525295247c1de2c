using Farm.Engine.Results;

namespace Farm.Engine.Tests.Results;

public class SummaryTableTests
{
    private static readonly string[] Methods = ["f1max", "iou", "normal-stats", "percentile", "fpr-bound"];

    // Every cell has one row per threshold method, all with the same threshold-independent metric.
    private static IEnumerable<ResultRow> Cell(string model, string category, int seed, double auroc) =>
        Methods.Select(m => ResultRows.Make(model, "mvtec", category, seed, m, auroc));

    private static List<ResultRow> PaperRows() =>
    [
        .. Cell("padim", "bottle", 0, 0.90), .. Cell("padim", "bottle", 1, 0.92), .. Cell("padim", "bottle", 2, 0.94),
        .. Cell("padim", "screw", 0, 0.80), .. Cell("padim", "screw", 1, 0.90),
        .. Cell("patchcore", "bottle", 0, 0.97),
    ];

    [Fact]
    public void DefectCategoriesCanBeAColumnAxis()
    {
        // One cell per seed with an "all" row and a "surface" row per threshold method, as the pipeline writes them.
        var rows = new[] { (0, 0.9, 0.7), (1, 0.8, 0.5) }.SelectMany(run =>
            Cell("padim", "bottle", run.Item1, run.Item2).Concat(
                Cell("padim", "bottle", run.Item1, run.Item3).Select(r => r with { DefectCategory = "surface" })));

        var overall = SummaryTable.Build(rows);
        var byCategory = SummaryTable.Build(rows, new SummaryTableOptions { DefectCategory = null, ColumnColumns = ["defect_category"] });

        Assert.Equal(0.85, overall["padim", "mvtec/bottle"]!.Mean, 12);
        Assert.Equal(["all", "surface"], byCategory.ColumnKeys);
        Assert.Equal(2, byCategory["padim", "surface"]!.Count);
        Assert.Equal(0.6, byCategory["padim", "surface"]!.Mean, 12);
        Assert.Equal(0.85, byCategory["padim", "all"]!.Mean, 12);
    }

    [Fact]
    public void CellsAreMeanAndSampleStdOverSeedsCountingEachCellOnce()
    {
        var table = SummaryTable.Build(PaperRows());

        Assert.Equal(["padim", "patchcore"], table.RowKeys);
        Assert.Equal(["mvtec/bottle", "mvtec/screw"], table.ColumnKeys);

        // By hand: (0.90 + 0.92 + 0.94) / 3 = 0.92; deviations ±0.02, 0 → sqrt(0.0008 / 2) = 0.02.
        var bottle = table["padim", "mvtec/bottle"]!;
        Assert.Equal(3, bottle.Count);
        Assert.Equal(0.92, bottle.Mean, 12);
        Assert.Equal(0.02, bottle.StdDev, 12);
        // (0.80 + 0.90) / 2 = 0.85; deviations ±0.05 → sqrt(0.005 / 1) = 0.0707106781.
        var screw = table["padim", "mvtec/screw"]!;
        Assert.Equal(2, screw.Count);
        Assert.Equal(0.85, screw.Mean, 12);
        Assert.Equal(0.0707106781, screw.StdDev, 9);
        var single = table["patchcore", "mvtec/bottle"]!;
        Assert.Equal(1, single.Count);
        Assert.True(double.IsNaN(single.StdDev));
        Assert.Null(table["patchcore", "mvtec/screw"]);
        Assert.True(table.SeedCountsDiffer);
    }

    [Fact]
    public void MarkdownShowsPercentagesWithOneDecimalSeedCountsWhenTheyDifferAndTheBestInBold()
    {
        var markdown = SummaryTable.Build(PaperRows()).ToMarkdown();

        Assert.Equal("""
            **image_auroc** (%): mean ± sample std (n − 1) over seeds, n = seeds per cell; threshold method: any (metric does not depend on it); defect category: all; best per column in bold.

            | model | mvtec/bottle | mvtec/screw |
            |:--|--:|--:|
            | padim | 92.0 ± 2.0 (n=3) | 85.0 ± 7.1 (n=2) |
            | patchcore | **97.0** (n=1) | — |

            """.ReplaceLineEndings("\n"), markdown.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void EqualSeedCountsAreStatedOnceInTheCaption()
    {
        List<ResultRow> rows = [.. Cell("padim", "bottle", 0, 0.5), .. Cell("padim", "bottle", 1, 0.7),
            .. Cell("padim", "screw", 0, 1.0), .. Cell("padim", "screw", 1, 1.0)];
        var markdown = SummaryTable.Build(rows).ToMarkdown();

        Assert.Contains("over seeds, n = 2 seeds;", markdown);
        // 0.5, 0.7: mean 0.6, std sqrt(0.02) = 0.1414.
        Assert.Contains("| padim | 60.0 ± 14.1 | 100.0 ± 0.0 |", markdown);
        Assert.DoesNotContain("(n=", markdown);
    }

    [Fact]
    public void ThresholdDependentMetricsNeedAMethodAndUseOnlyItsRows()
    {
        static ResultRow Row(int seed, string method, double f1) =>
            ResultRows.Make(seed: seed, threshold: method) with { PixelF1 = f1 };
        ResultRow[] rows = [Row(0, "f1max", 0.5), Row(0, "iou", 0.3), Row(1, "f1max", 0.7), Row(1, "iou", 0.3)];

        Assert.Throws<FarmException>(() => SummaryTable.Build(rows, new() { Metric = "pixel_f1" }));
        var f1max = SummaryTable.Build(rows, new() { Metric = "pixel_f1", ThresholdMethod = "f1max" });
        var iou = SummaryTable.Build(rows, new() { Metric = "pixel_f1", ThresholdMethod = "iou" });

        Assert.Equal("60.0 ± 14.1", f1max.Format(f1max["padim", "mvtec/bottle"]!));
        Assert.Equal("30.0 ± 0.0", iou.Format(iou["padim", "mvtec/bottle"]!));
        Assert.Contains("threshold method: iou;", iou.ToMarkdown());
    }

    [Fact]
    public void UndefinedValuesAreLeftOutAndCounted()
    {
        List<ResultRow> rows = [.. Cell("padim", "bottle", 0, 0.9), .. Cell("padim", "bottle", 1, double.NaN),
            .. Cell("padim", "bottle", 2, 0.7), .. Cell("padim", "screw", 0, double.NaN)];
        var table = SummaryTable.Build(rows);

        var bottle = table["padim", "mvtec/bottle"]!;
        Assert.Equal(2, bottle.Count);
        Assert.Equal(0.8, bottle.Mean, 12);
        Assert.Equal(Math.Sqrt(0.02), bottle.StdDev, 12);
        Assert.Equal("n/a", table.Format(table["padim", "mvtec/screw"]!));
    }

    [Fact]
    public void AReRunCellCountsOnceWithItsLatestResult()
    {
        var old = ResultRows.Make(imageAuroc: 0.9);
        var rerun = ResultRows.Make(imageAuroc: 0.6) with { SweepId = "later", CreatedUtc = old.CreatedUtc.AddHours(1) };
        var table = SummaryTable.Build([rerun, old]);

        var cell = table["padim", "mvtec/bottle"]!;
        Assert.Equal(1, cell.Count);
        Assert.Equal(0.6, cell.Mean);
    }

    [Fact]
    public void RunsThatDifferOnlyInAnIgnoredColumnAreNotSilentlyPooled()
    {
        var small = ResultRows.Make(configHash: "h128") with { ImageSize = 128 };
        var large = ResultRows.Make(configHash: "h256");

        var ex = Assert.Throws<FarmException>(() => SummaryTable.Build([small, large]));
        Assert.Contains("seed 0 2 times", ex.Message);

        var bySize = SummaryTable.Build([small, large], new() { RowColumns = ["model", "image_size"] });
        Assert.Equal(["padim/128", "padim/256"], bySize.RowKeys);
    }

    [Fact]
    public void DriftSeedsArePooledWithRunSeedsAsReplicates()
    {
        // Two run seeds × two drift seeds under one experiment, plus the clean runs: the drift column averages four.
        static ResultRow Drifted(int seed, int driftSeed, double auroc) =>
            ResultRows.Make(seed: seed, imageAuroc: auroc, configHash: $"drift-{seed}-{driftSeed}") with
            {
                Experiment = "drift",
                ConditionSeed = driftSeed,
                CellId = $"mvtec/bottle/drift-s{driftSeed}/padim/seed{seed}",
            };
        ResultRow[] rows =
        [
            Drifted(0, 0, 0.70), Drifted(0, 1, 0.80), Drifted(1, 0, 0.60), Drifted(1, 1, 0.90),
            ResultRows.Make(seed: 0, imageAuroc: 0.95), ResultRows.Make(seed: 1, imageAuroc: 0.97),
        ];

        var table = SummaryTable.Build(rows, new() { ColumnColumns = ["experiment"] });

        var drift = table["padim", "drift"]!;
        Assert.Equal(4, drift.Count);
        Assert.Equal(0.75, drift.Mean, 12);
        Assert.Equal(Math.Sqrt((0.05 * 0.05 * 2 + 0.15 * 0.15 * 2) / 3), drift.StdDev, 12);
        Assert.Equal(2, table["padim", "none"]!.Count);
        Assert.True(table.PoolsConditionSeeds);
        Assert.Contains("over seeds (run seed × condition seed)", table.ToMarkdown());
        Assert.False(SummaryTable.Build(rows.Where(r => r.Experiment == "none")).PoolsConditionSeeds);

        // The same replicate twice is still two configurations the table cannot tell apart.
        var ex = Assert.Throws<FarmException>(() => SummaryTable.Build(
            [.. rows, Drifted(1, 1, 0.5) with { ConfigHash = "other", ImageSize = 128 }], new() { ColumnColumns = ["experiment"] }));
        Assert.Contains("seed 1 with condition seed 1 2 times", ex.Message);
    }

    [Fact]
    public void EpochsAreAveragedUnscaledAndOnePassModelsShowNotApplicable()
    {
        ResultRow[] rows =
        [
            ResultRows.Make(model: "trained", seed: 0) with { Epochs = 12 },
            ResultRows.Make(model: "trained", seed: 1) with { Epochs = 35 },
            ResultRows.Make(model: "padim", seed: 0),
        ];

        var table = SummaryTable.Build(rows, new() { Metric = "epochs" });

        Assert.Equal(23.5, table["trained", "mvtec/bottle"]!.Mean);
        Assert.Equal(0, table["padim", "mvtec/bottle"]!.Count);
        var markdown = table.ToMarkdown();
        Assert.Contains("| trained | 23.5 ± 16.3 |", markdown);
        Assert.Contains("| padim | n/a |", markdown);
        Assert.DoesNotContain("(%)", markdown);
        var error = Assert.Throws<FarmException>(() => SummaryTable.Build(rows, new() { Metric = "backbone" }));
        Assert.Contains("not a numeric column", error.Message);
    }

    [Fact]
    public void OnlyTheChosenDefectCategoryIsShown()
    {
        var overall = ResultRows.Make(imageAuroc: 0.9);
        var surface = ResultRows.Make(imageAuroc: 0.5) with { DefectCategory = "surface" };

        Assert.Equal(0.9, SummaryTable.Build([overall, surface])["padim", "mvtec/bottle"]!.Mean);
        Assert.Equal(0.5, SummaryTable.Build([overall, surface], new() { DefectCategory = "surface" })["padim", "mvtec/bottle"]!.Mean);
    }

    [Fact]
    public void RawUnitsAndOtherDecimalsCanBeChosen()
    {
        ResultRow[] rows = [ResultRows.Make(seed: 0) with { ImageThreshold = 12.0 }, ResultRows.Make(seed: 1) with { ImageThreshold = 13.0 }];
        var table = SummaryTable.Build(rows, new()
        {
            Metric = "image_threshold", ThresholdMethod = "f1max", AsPercent = false, Decimals = 3,
            RowColumns = ["backbone"], ColumnColumns = ["category"],
        });

        // 12, 13: mean 12.5, std sqrt(0.5) = 0.7071.
        Assert.Equal("12.500 ± 0.707", table.Format(table["resnet18", "bottle"]!));
        Assert.DoesNotContain("(%)", table.ToMarkdown());
    }

    [Fact]
    public void NonMetricColumnsAreRefused()
    {
        Assert.Throws<FarmException>(() => SummaryTable.Build(PaperRows(), new() { Metric = "model" }));
        Assert.Throws<FarmException>(() => SummaryTable.Build(PaperRows(), new() { Metric = "nope" }));
    }
}
