using Farm.Engine.Metrics;
using Farm.Engine.Thresholds;

namespace Farm.Engine.Tests.Metrics;

public class ThresholdMethodsTests
{
    [Fact]
    public void RegistryListsTheFiveProtocolMethods()
    {
        Assert.Equal(["f1max", "iou", "normal-stats", "percentile", "fpr-bound"], ThresholdMethods.Names);
        Assert.True(ThresholdMethods.NeedsAnomalies("f1max"));
        Assert.True(ThresholdMethods.NeedsAnomalies("iou"));
        Assert.False(ThresholdMethods.NeedsAnomalies("normal-stats"));
        Assert.False(ThresholdMethods.NeedsAnomalies("percentile"));
        Assert.False(ThresholdMethods.NeedsAnomalies("fpr-bound"));
    }

    [Fact]
    public void ImageThresholdsMatchNumpyAndBruteForce()
    {
        // Sizes chosen so that fpr-bound allows 0, 2, 7 and 17 false positives among the normal images.
        var configurations = new (int Count, int Levels)[] { (60, 6), (300, 10), (1000, 25), (2500, 0) };
        using var reference = new MetricsReference();
        var cases = new List<(float[] Scores, bool[] Labels)>();
        foreach (var (count, levels) in configurations)
        {
            var data = MetricTestData.Binary(seed: count + levels, count, levels, anomalousRate: 0.3);
            cases.Add(data);
            var normalScores = data.Scores.Where((_, i) => !data.Labels[i]).ToArray();
            reference.AddThresholds(data.Scores, data.Labels, normalScores);
        }

        var expected = reference.Run();
        for (var i = 0; i < cases.Count; i++)
        {
            var (scores, labels) = cases[i];
            foreach (var name in ThresholdMethods.Names)
            {
                AssertThreshold(expected[i].Number(name), ThresholdMethods.Estimate(name, scores, labels), name);
            }
        }
    }

    [Fact]
    public void PixelThresholdsMatchNumpyAndBruteForce()
    {
        var configurations = new (int Count, int Width, int Height, int Levels)[]
        {
            (4, 12, 10, 5), (6, 20, 20, 12), (5, 17, 23, 0),
        };
        using var reference = new MetricsReference();
        var cases = new List<PixelScoreMaps>();
        foreach (var (count, width, height, levels) in configurations)
        {
            var (maps, masks) = MetricTestData.Pixel(seed: count * 7 + width, count, width, height, levels);
            var data = new PixelScoreMaps(maps, masks, width, height);
            cases.Add(data);
            // normal-stats and percentile read the pixels of normal images; the others every pixel, labelled by mask.
            var normalImagePixels = maps.Where((_, image) => data.IsNormalImage[image]).SelectMany(m => m).ToArray();
            Assert.NotEmpty(normalImagePixels);
            reference.AddThresholds(maps.SelectMany(m => m).ToArray(), masks.SelectMany(m => m).ToArray(), normalImagePixels);
        }

        var expected = reference.Run();
        for (var i = 0; i < cases.Count; i++)
        {
            foreach (var name in ThresholdMethods.Names)
            {
                AssertThreshold(expected[i].Number(name), ThresholdMethods.Estimate(name, cases[i]), name);
            }
        }
    }

    [Fact]
    public void EqualMaximaPickTheLowestThreshold()
    {
        // Descending: anomalous, normal, normal, anomalous. t = 4: TP 1, FP 0, FN 1 → F1 2/3, IoU 1/2;
        // t = 1: TP 2, FP 2, FN 0 → F1 4/6, IoU 2/4. Equal maxima: the lowest threshold wins, as argmax over
        // scikit-learn's ascending thresholds.
        float[] scores = [4, 3, 2, 1];
        bool[] labels = [true, false, false, true];
        Assert.Equal(1.0, ThresholdMethods.Estimate("f1max", scores, labels));
        Assert.Equal(1.0, ThresholdMethods.Estimate("iou", scores, labels));
        Assert.Equal(2.0 / 3, ImageMetrics.F1Max(scores, labels), 1e-15);
    }

    [Fact]
    public void FprBoundIsTheLowestThresholdKeepingFprWithinOnePercent()
    {
        // 200 normal scores 0..199 (each once): at most 2 may be flagged, so t lies just above 197.
        var scores = Enumerable.Range(0, 200).Select(i => (float)i).ToArray();
        var labels = new bool[200];
        var threshold = ThresholdMethods.Estimate("fpr-bound", scores, labels);
        Assert.Equal(MathF.BitIncrement(197f), threshold);
        Assert.Equal(0.01, InferenceMetrics.AtImageThreshold(scores, labels, threshold).FalsePositiveRate);
        Assert.Equal(0.015, InferenceMetrics.AtImageThreshold(scores, labels, 197f).FalsePositiveRate);
    }

    [Fact]
    public void MissingValidationDataIsAClearError()
    {
        float[] scores = [0.1f, 0.2f, 0.3f];
        var noAnomalies = Assert.Throws<FarmException>(
            () => ThresholdMethods.Estimate("f1max", scores, [false, false, false]));
        Assert.Contains("needs anomalous validation images", noAnomalies.Message);
        Assert.Equal("threshold", noAnomalies.Field);
        Assert.Throws<FarmException>(() => ThresholdMethods.Estimate("iou", scores, [false, false, false]));

        var normalMaps = new PixelScoreMaps([new float[4], new float[4]], [new bool[4], new bool[4]], 2, 2);
        var noAnomalousPixels = Assert.Throws<FarmException>(() => ThresholdMethods.Estimate("iou", normalMaps));
        Assert.Contains("needs anomalous validation pixels", noAnomalousPixels.Message);

        Assert.Throws<FarmException>(() => ThresholdMethods.Estimate("normal-stats", scores, [true, true, true]));
        Assert.Throws<FarmException>(() => ThresholdMethods.Estimate("percentile", scores, [true, true, true]));
        Assert.Throws<FarmException>(() => ThresholdMethods.Estimate("fpr-bound", scores, [true, true, true]));
        var onlyAnomalousImages = new PixelScoreMaps([new float[4]], [[true, false, false, false]], 2, 2);
        Assert.Throws<FarmException>(() => ThresholdMethods.Estimate("normal-stats", onlyAnomalousImages));
        // fpr-bound reads normal pixels, which anomalous images have.
        Assert.Equal(MathF.BitIncrement(0f), ThresholdMethods.Estimate("fpr-bound", onlyAnomalousImages));

        var unknown = Assert.Throws<FarmException>(() => ThresholdMethods.Estimate("otsu", scores, [true, false, false]));
        Assert.Contains("f1max, iou, normal-stats, percentile, fpr-bound", unknown.Message);
    }

    [Fact]
    public void ExplicitImageLabelsOverrideEmptyMasks()
    {
        // The second image is anomalous with an empty mask (e.g. a logical anomaly): not a normal-image pixel source.
        var maps = new[] { new[] { 1f, 2f, 3f, 4f }, new[] { 100f, 100f, 100f, 100f } };
        var masks = new[] { new bool[4], new bool[4] };
        var labelled = new PixelScoreMaps(maps, masks, 2, 2, imageIsAnomalous: [false, true]);
        var derived = new PixelScoreMaps(maps, masks, 2, 2);
        // numpy.percentile([1, 2, 3, 4], 99) = 3.97.
        Assert.Equal(3.97, ThresholdMethods.Estimate("percentile", labelled), 1e-12);
        Assert.True(ThresholdMethods.Estimate("percentile", derived) > 99);
    }

    private static void AssertThreshold(double expected, double actual, string name)
    {
        // f1max, iou and fpr-bound pick an exact float; normal-stats and percentile are arithmetic in double.
        var tolerance = name is "normal-stats" or "percentile" ? 1e-12 * Math.Max(1, Math.Abs(expected)) : 0;
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{name}: expected {expected:R}, got {actual:R}");
    }
}
