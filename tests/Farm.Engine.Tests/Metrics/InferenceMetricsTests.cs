using Farm.Engine.Metrics;

namespace Farm.Engine.Tests.Metrics;

public class InferenceMetricsTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void PixelAndImageMetricsMatchScikitLearn()
    {
        var (maps, masks) = MetricTestData.Pixel(seed: 21, count: 6, width: 18, height: 14, levels: 9);
        var pooledScores = maps.SelectMany(m => m).ToArray();
        var pooledLabels = masks.SelectMany(m => m).ToArray();
        var (imageScores, imageLabels) = MetricTestData.Binary(seed: 4, count: 80, levels: 8, anomalousRate: 0.4);
        // Thresholds on tied scores check the "≥" side of the comparison.
        double[] thresholds = [0.3, 0.5555555555555556, 0.75, 1.0];
        using var reference = new MetricsReference();
        foreach (var threshold in thresholds)
        {
            reference.AddInference(pooledScores, pooledLabels, threshold);
            reference.AddInference(imageScores, imageLabels, threshold - 0.5);
        }

        var expected = reference.Run();
        var data = new PixelScoreMaps(maps, masks, 18, 14);
        for (var i = 0; i < thresholds.Length; i++)
        {
            var pixel = InferenceMetrics.AtPixelThreshold(data, thresholds[i]);
            Assert.Equal(expected[2 * i].Number("precision"), pixel.Precision, Tolerance);
            Assert.Equal(expected[2 * i].Number("recall"), pixel.Recall, Tolerance);
            Assert.Equal(expected[2 * i].Number("f1"), pixel.F1, Tolerance);
            Assert.Equal(expected[2 * i].Number("iou"), pixel.Iou, Tolerance);

            var image = InferenceMetrics.AtImageThreshold(imageScores, imageLabels, thresholds[i] - 0.5);
            Assert.Equal(expected[2 * i + 1].Number("accuracy"), image.Accuracy, Tolerance);
            Assert.Equal(expected[2 * i + 1].Number("fpr"), image.FalsePositiveRate, Tolerance);
            Assert.Equal(expected[2 * i + 1].Number("fnr"), image.FalseNegativeRate, Tolerance);
        }
    }

    [Fact]
    public void ScoreEqualToTheThresholdIsAnomalous()
    {
        var image = InferenceMetrics.AtImageThreshold([0.5f, 0.5f, 0.2f], [true, false, false], 0.5);
        Assert.Equal((1, 1, 1, 0), (image.TruePositives, image.FalsePositives, image.TrueNegatives, image.FalseNegatives));
        Assert.Equal(2.0 / 3, image.Accuracy, Tolerance);
        Assert.Equal(0.5, image.FalsePositiveRate, Tolerance);
        Assert.Equal(0.0, image.FalseNegativeRate);
    }

    [Fact]
    public void UndefinedRatiosAreNaN()
    {
        // Nothing predicted and nothing anomalous: precision, recall, F1, IoU are 0/0.
        var pixel = InferenceMetrics.AtPixelThreshold([[0.1f, 0.2f]], [new bool[2]], 2, 1, threshold: 1.0);
        Assert.True(double.IsNaN(pixel.Precision) && double.IsNaN(pixel.Recall));
        Assert.True(double.IsNaN(pixel.F1) && double.IsNaN(pixel.Iou));

        // Anomalies present but nothing predicted: recall, F1 and IoU are 0, precision undefined.
        var missed = InferenceMetrics.AtPixelThreshold([[0.1f, 0.2f]], [[true, false]], 2, 1, threshold: 1.0);
        Assert.True(double.IsNaN(missed.Precision));
        Assert.Equal((0.0, 0.0, 0.0), (missed.Recall, missed.F1, missed.Iou));

        var onlyNormal = InferenceMetrics.AtImageThreshold([0.1f, 0.9f], [false, false], 0.5);
        Assert.Equal(0.5, onlyNormal.FalsePositiveRate);
        Assert.True(double.IsNaN(onlyNormal.FalseNegativeRate));
        Assert.True(double.IsNaN(InferenceMetrics.AtImageThreshold([], [], 0.5).Accuracy));
    }

    [Fact]
    public void NonFiniteInputsAreRejected()
    {
        var error = Assert.Throws<FarmException>(
            () => InferenceMetrics.AtImageThreshold([0.1f, float.NaN], [false, true], 0.5, ["good.png", "bad.png"]));
        Assert.Equal("bad.png", error.File);
        Assert.Throws<FarmException>(() => InferenceMetrics.AtImageThreshold([0.1f], [false], double.NaN));
        var pixelError = Assert.Throws<FarmException>(
            () => InferenceMetrics.AtPixelThreshold([[0.1f, float.PositiveInfinity]], [new bool[2]], 2, 1, 0.5, ["m.png"]));
        Assert.Contains("pixel index 1", pixelError.Message);
    }
}
