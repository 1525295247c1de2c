using Farm.Engine.Data;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Pipeline;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.Engine.Tests.Data;

namespace Farm.Engine.Tests.Pipeline;

/// <summary>A synthetic dataset big enough for PaDiM to be judged on (128 px, 24 training images per product).</summary>
public sealed class PipelineDatasetFixture() : SyntheticDatasetFixture(new SyntheticDatasetOptions
{
    Seed = 11,
    Size = 128,
    TrainCount = 24,
    TestGoodCount = 12,
    TestPerDefectType = 4,
});

public class CellRunnerTests(PipelineDatasetFixture dataset) : IClassFixture<PipelineDatasetFixture>
{
    /// <summary>
    /// The walking skeleton's bar: PaDiM with a seeded random ResNet-18 must separate the synthetic defects clearly
    /// above chance (0.5) at image and pixel level, on both the object-on-backdrop and the texture product.
    /// </summary>
    [Theory]
    [InlineData("widget")]
    [InlineData("fabric")]
    public void PadimSeparatesSyntheticAnomaliesClearlyAboveChance(string product)
    {
        var (rows, summary) = RunCell(product, seed: 0);

        var row = rows.First(r => r.DefectCategory == "all");
        Assert.True(row.ImageAuroc >= 0.75, $"image AUROC {row.ImageAuroc:F3} < 0.75 on {product}");
        Assert.True(row.PixelAuroc >= 0.90, $"pixel AUROC {row.PixelAuroc:F3} < 0.90 on {product}");
        Assert.True(row.PixelAupro >= 0.50, $"pixel AUPRO {row.PixelAupro:F3} < 0.50 on {product}");
        Assert.Equal(rows.Count, summary.Rows);
    }

    [Fact]
    public void OneRowPerThresholdMethodSharingTheThresholdIndependentMetrics()
    {
        var (allRows, _) = RunCell("fabric", seed: 1);
        var rows = allRows.Where(r => r.DefectCategory == "all").ToList();

        Assert.Equal(ThresholdMethodsUsed, rows.Select(r => r.ThresholdMethod));
        Assert.Single(rows.Select(r => (r.ImageAuroc, r.PixelAuroc, r.PixelAupro, r.ImageAupr)).Distinct());
        Assert.All(rows, r =>
        {
            Assert.False(double.IsNaN(r.PixelThreshold), r.ThresholdMethod);
            Assert.False(double.IsNaN(r.ImageThreshold), r.ThresholdMethod);
            Assert.InRange(r.PixelF1, 0, 1);
            Assert.InRange(r.ImageAccuracy, 0, 1);
            Assert.Equal(24, r.NTrain);
            Assert.Equal(4, r.NValidation);
            Assert.Equal("padim", r.Model);
            Assert.Equal("resnet18", r.Backbone);
            Assert.Equal(1, r.Seed);
        });
        // Different methods pick different thresholds from the same validation scores.
        Assert.True(rows.Select(r => r.PixelThreshold).Distinct().Count() > 1);
    }

    [Theory]
    [InlineData("widget", true)]
    [InlineData("fabric", false)]
    public void LabelledDefectCategoriesGetTheirOwnRows(string product, bool background)
    {
        var (rows, _) = RunCell(product, seed: 0);
        var f1max = rows.Where(r => r.ThresholdMethod == "f1max").ToDictionary(r => r.DefectCategory);

        Assert.Equal(["all", "structural", "surface", "contamination", "combined"], f1max.Keys);
        Assert.All(f1max.Values, r => Assert.Equal(background, r.Background));
        // A category is its anomalous images against every normal image.
        Assert.All(f1max.Values, r => Assert.Equal(f1max["all"].NTestNormal, r.NTestNormal));
        Assert.Equal(f1max["all"].NTestAnomalous, f1max.Values.Where(r => r.DefectCategory != "all").Sum(r => r.NTestAnomalous));
        // Thresholds come from the validation split once; every subset is judged at the same ones.
        Assert.Single(f1max.Values.Select(r => r.PixelThreshold).Distinct());
        Assert.Equal(ThresholdMethodsUsed.Length * f1max.Count, rows.Count);
    }

    [Fact]
    public void RowsRecordTheWeightsFileAndItsSha256()
    {
        var weights = Path.Combine(dataset.Output, $"resnet18-{Guid.NewGuid():N}.safetensors");
        Directory.CreateDirectory(dataset.Output);
        using (var donor = Farm.Engine.Backbones.ResNet.ResNet18(seed: 42))
        {
            Farm.Engine.Backbones.SafeTensors.Save(weights, donor.state_dict());
        }

        var (rows, _) = RunCell("widget", seed: 0, weightsPath: weights);

        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(weights)));
        Assert.All(rows, r =>
        {
            Assert.Equal(Path.GetFileName(weights), r.WeightsFile);
            Assert.Equal(expected, r.WeightsSha256);
            Assert.Equal("resnet18", r.Backbone);
        });
    }

    [Fact]
    public void AResolutionConditionRunsAtItsSizeAndIsRecorded()
    {
        var (rows, _) = RunCell("widget", seed: 0, condition: new ConditionSpec("resolution", "96"), imageSize: 96);

        Assert.All(rows, r =>
        {
            Assert.Equal(96, r.ImageSize);
            Assert.Equal("resolution", r.Experiment);
            Assert.Equal("96", r.ConditionParameter);
            Assert.Null(r.ConditionSeed);
        });
    }

    [Fact]
    public void DriftChangesOnlyTheTestImagesAndIsSeeded()
    {
        var (clean, _) = RunCell("fabric", seed: 0);
        var (drifted, _) = RunCell("fabric", seed: 0, condition: new ConditionSpec("drift", null, 1));
        var (again, _) = RunCell("fabric", seed: 0, condition: new ConditionSpec("drift", null, 1));
        var (otherDrift, _) = RunCell("fabric", seed: 0, condition: new ConditionSpec("drift", null, 2));
        ResultRow All(IReadOnlyList<ResultRow> rows) => rows.Single(r => r.DefectCategory == "all" && r.ThresholdMethod == "f1max");

        // Validation is clean, so the thresholds estimated on it are the clean run's; the test scores are not.
        Assert.Equal(All(clean).PixelThreshold, All(drifted).PixelThreshold);
        Assert.NotEqual(All(clean).PixelAuroc, All(drifted).PixelAuroc);
        Assert.Equal(All(drifted).PixelAuroc, All(again).PixelAuroc);
        Assert.NotEqual(All(drifted).PixelAuroc, All(otherDrift).PixelAuroc);
        Assert.Equal(("drift", (string?)null, (int?)1), (All(drifted).Experiment, All(drifted).ConditionParameter, All(drifted).ConditionSeed));
        Assert.Equal(All(clean).NTestAnomalous, All(drifted).NTestAnomalous);
    }

    [Fact]
    public void NoisyLabelsMoveAnomaliesFromTestIntoTraining()
    {
        var (clean, _) = RunCell("widget", seed: 0);
        var (noisy, _) = RunCell("widget", seed: 0, condition: new ConditionSpec("noisy-labels", "0.16", 3));
        ResultRow All(IReadOnlyList<ResultRow> rows) => rows.Single(r => r.DefectCategory == "all" && r.ThresholdMethod == "f1max");

        // 16 % of 24 normal training images: round(3.84) = 4 replaced by anomalous test images, which leave the test set.
        Assert.Equal(All(clean).NTrain, All(noisy).NTrain);
        Assert.Equal(All(clean).NTestAnomalous - 4, All(noisy).NTestAnomalous);
        Assert.Equal(All(clean).NTestNormal, All(noisy).NTestNormal);
        Assert.Equal(("noisy-labels", "0.16", (int?)3), (All(noisy).Experiment, All(noisy).ConditionParameter, All(noisy).ConditionSeed));
    }

    [Fact]
    public void AnExperimentTheEngineCannotApplyFailsInsteadOfRunningClean()
    {
        var error = Assert.Throws<FarmException>(() => RunCell("widget", seed: 0, condition: new ConditionSpec("fog", null, 1)));

        Assert.Equal("conditions", error.Field);
        Assert.Contains("fog", error.Message);
    }

    [Fact]
    public void SameSeedGivesTheSameScores()
    {
        var (first, _) = RunCell("widget", seed: 2);
        var (second, _) = RunCell("widget", seed: 2);

        Assert.Equal(first.Select(r => (r.ImageAuroc, r.PixelAuroc, r.PixelThreshold)),
            second.Select(r => (r.ImageAuroc, r.PixelAuroc, r.PixelThreshold)));
    }

    private static readonly string[] ThresholdMethodsUsed = ["f1max", "iou", "normal-stats", "percentile", "fpr-bound"];

    private (IReadOnlyList<ResultRow> Rows, CellRunSummary Summary) RunCell(
        string product, int seed, string? weightsPath = null, ConditionSpec? condition = null, int imageSize = 128)
    {
        var cell = new CellSpec(
            "test", "synthetic", "synthetic", dataset.Root, null, product, condition ?? ConditionSpec.None,
            new ModelSpec("padim", "resnet18", weightsPath, OptionMap.Empty), seed, imageSize, 8,
            ThresholdMethodsUsed.ToEquatableArray(), new ValidationSpec(2, 2));
        var split = DataSplitter.Split(MvtecDataset.LoadCategory(dataset.Root, product), seed, 2, 2);
        var path = Path.Combine(dataset.Output, $"{product}-{seed}-{Guid.NewGuid():N}.parquet");

        var summary = CellRunner.Run(new CellRunRequest(cell, split, "sweep-1", "test", path, null));

        return (ResultsParquet.ReadFile(path), summary);
    }
}
