namespace Farm.Engine.Metrics;

/// <summary>Pooled pixel metrics at one threshold; NaN where the ratio is 0/0.</summary>
public sealed record PixelInferenceValues(
    double Precision, double Recall, double F1, double Iou, long TruePositives, long FalsePositives, long FalseNegatives)
{
    /// <summary>Every ratio NaN and nothing counted: for images without pixel ground truth or without a pixel threshold.</summary>
    public static PixelInferenceValues Undefined { get; } = new(double.NaN, double.NaN, double.NaN, double.NaN, 0, 0, 0);
}

/// <summary>Image metrics at one threshold; NaN where the ratio is 0/0.</summary>
public sealed record ImageInferenceValues(
    double Accuracy, double FalsePositiveRate, double FalseNegativeRate, int TruePositives, int FalsePositives,
    int TrueNegatives, int FalseNegatives);

/// <summary>
/// Threshold-dependent ("inference") metrics at thresholds estimated on the validation set. A pixel or image is
/// predicted anomalous iff its score ≥ the threshold.
/// </summary>
/// <remarks>
/// Undefined ratios are NaN rather than 0: precision with nothing predicted anomalous, recall and FNR with no
/// anomalous pixel/image, FPR with no normal image, F1 and IoU when there is neither a positive nor a prediction,
/// accuracy with no image.
/// </remarks>
public static class InferenceMetrics
{
    public static PixelInferenceValues AtPixelThreshold(PixelScoreMaps data, double threshold)
    {
        RequireThreshold(threshold);
        long truePositives = 0, falsePositives = 0, falseNegatives = 0;
        for (var image = 0; image < data.ImageCount; image++)
        {
            var map = data.Maps[image];
            var mask = data.Masks[image];
            for (var pixel = 0; pixel < map.Length; pixel++)
            {
                var predicted = map[pixel] >= threshold;
                if (mask[pixel])
                {
                    if (predicted)
                    {
                        truePositives++;
                    }
                    else
                    {
                        falseNegatives++;
                    }
                }
                else if (predicted)
                {
                    falsePositives++;
                }
            }
        }

        return new PixelInferenceValues(
            Precision: Ratio(truePositives, truePositives + falsePositives),
            Recall: Ratio(truePositives, truePositives + falseNegatives),
            F1: Ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives),
            Iou: Ratio(truePositives, truePositives + falsePositives + falseNegatives),
            truePositives, falsePositives, falseNegatives);
    }

    public static PixelInferenceValues AtPixelThreshold(
        IReadOnlyList<float[]> maps, IReadOnlyList<bool[]> masks, int width, int height, double threshold,
        IReadOnlyList<string>? imageNames = null) =>
        AtPixelThreshold(new PixelScoreMaps(maps, masks, width, height, imageNames), threshold);

    /// <exception cref="FarmException">A NaN or infinite score, naming the image.</exception>
    public static ImageInferenceValues AtImageThreshold(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, double threshold,
        IReadOnlyList<string>? imageNames = null)
    {
        RequireThreshold(threshold);
        ScoreValidation.RequireSameLength(scores.Length, isAnomalous.Length);
        ScoreValidation.RequireFiniteImageScores(scores, imageNames);
        int truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            var predicted = scores[i] >= threshold;
            switch (isAnomalous[i], predicted)
            {
                case (true, true): truePositives++; break;
                case (true, false): falseNegatives++; break;
                case (false, true): falsePositives++; break;
                case (false, false): trueNegatives++; break;
            }
        }

        return new ImageInferenceValues(
            Accuracy: Ratio(truePositives + trueNegatives, scores.Length),
            FalsePositiveRate: Ratio(falsePositives, falsePositives + trueNegatives),
            FalseNegativeRate: Ratio(falseNegatives, falseNegatives + truePositives),
            truePositives, falsePositives, trueNegatives, falseNegatives);
    }

    /// <summary>A NaN threshold would silently predict everything normal.</summary>
    private static void RequireThreshold(double threshold)
    {
        if (double.IsNaN(threshold))
        {
            throw new FarmException("threshold is NaN", field: "threshold");
        }
    }

    private static double Ratio(long numerator, long denominator) =>
        denominator == 0 ? double.NaN : (double)numerator / denominator;
}
