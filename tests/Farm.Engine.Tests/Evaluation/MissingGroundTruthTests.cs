using Farm.Engine.Data;
using Farm.Engine.Evaluation;
using Farm.Engine.Pipeline;

namespace Farm.Engine.Tests.Evaluation;

/// <summary>Anomalous images without a mask: image metrics as usual, pixel metrics and pixel thresholds undefined.</summary>
public class MissingGroundTruthTests
{
    private static readonly string[] Names = ["good/0", "good/1", "good/2", "crack/0", "crack/1", "glue/0"];
    private static readonly bool[] IsAnomalous = [false, false, false, true, true, true];
    private static readonly float[] Scores = [0.1f, 0.3f, 0.2f, 0.9f, 0.25f, 0.8f];

    /// <summary>Each anomalous image's defect is its top-left pixel, which it scores highest.</summary>
    private static ScoredImages Images(params int[] withoutMask) => new(
        Names,
        IsAnomalous,
        Scores,
        [.. Scores.Select(s => new[] { s, s / 2, 0f, 0f })],
        [.. IsAnomalous.Select((anomalous, i) => withoutMask.Contains(i) ? null : new[] { anomalous, false, false, false })],
        2,
        2);

    [Fact]
    public void ASetWithAnAnomalousImageWithoutMaskHasImageMetricsButNoPixelMetrics()
    {
        var complete = SetMetrics.Compute(Images());
        var partial = SetMetrics.Compute(Images(withoutMask: 4));

        Assert.True(Images().HasPixelGroundTruth);
        Assert.False(Images(withoutMask: 4).HasPixelGroundTruth);
        Assert.Equal(complete.Image, partial.Image);
        Assert.False(double.IsNaN(complete.Pixel.Auroc));
        Assert.True(double.IsNaN(partial.Pixel.Auroc));
        Assert.True(double.IsNaN(partial.Pixel.Aupro));
        Assert.True(double.IsNaN(partial.Pixel.F1Max));
        Assert.True(double.IsNaN(partial.Pixel.IouMax));
    }

    [Fact]
    public void PixelMapsOfASetWithoutGroundTruthAreRefused()
    {
        Assert.Throws<InvalidOperationException>(() => Images(withoutMask: 3).Pixels());
        Assert.Equal(6, Images().Pixels().ImageCount);
    }

    [Fact]
    public void WithoutValidationMasksEveryPixelThresholdAndPixelMetricIsUndefined()
    {
        var evaluation = CellEvaluation.Evaluate(Images(withoutMask: 3), Images(withoutMask: 5), ["f1max", "percentile"]);

        var all = Assert.Single(evaluation.Subsets);
        Assert.False(double.IsNaN(all.Metrics.Image.Auroc));
        Assert.True(double.IsNaN(all.Metrics.Pixel.Auroc));
        Assert.All(all.Thresholds, t =>
        {
            Assert.False(double.IsNaN(t.ImageThreshold), t.Method);
            Assert.False(double.IsNaN(t.Image.Accuracy), t.Method);
            Assert.True(double.IsNaN(t.PixelThreshold), t.Method);
            Assert.True(double.IsNaN(t.Pixel.F1), t.Method);
            Assert.True(double.IsNaN(t.Pixel.Iou), t.Method);
        });
    }

    [Fact]
    public void ValidationMasksGiveThresholdsButATestSetWithoutMasksStillHasNoPixelMetrics()
    {
        var evaluation = CellEvaluation.Evaluate(Images(), Images(withoutMask: 5), ["f1max"]);

        var f1max = Assert.Single(Assert.Single(evaluation.Subsets).Thresholds);
        Assert.False(double.IsNaN(f1max.PixelThreshold));
        Assert.True(double.IsNaN(f1max.Pixel.Precision));
        Assert.True(double.IsNaN(Assert.Single(evaluation.Subsets).Metrics.Pixel.Auroc));
    }

    [Fact]
    public void ALabelledSubsetWhoseImagesAllHaveMasksKeepsItsPixelMetrics()
    {
        ProductLabel[] labels =
        [
            new("crack/0", DefectCategory.Structural, true),
            new("crack/1", DefectCategory.Structural, true),
            new("glue/0", DefectCategory.Contamination, true),
        ];

        // glue/0 has no mask: "all" and "contamination" lose their pixel metrics, "structural" does not.
        var evaluation = CellEvaluation.Evaluate(Images(), Images(withoutMask: 5), ["f1max"], DefectBreakdown.ByPath(labels));

        var byCategory = evaluation.Subsets.ToDictionary(s => s.Subset.DefectCategory);
        Assert.True(double.IsNaN(byCategory["all"].Metrics.Pixel.Auroc));
        Assert.True(double.IsNaN(byCategory["contamination"].Metrics.Pixel.Auroc));
        // Defect pixels 0.9 and 0.25 against 18 normal pixels, of which 0.3 and 0.45 outrank 0.25: 34 of 36 pairs.
        Assert.Equal(34.0 / 36, byCategory["structural"].Metrics.Pixel.Auroc, 12);
        Assert.False(double.IsNaN(byCategory["structural"].Thresholds[0].Pixel.Recall));
    }
}
