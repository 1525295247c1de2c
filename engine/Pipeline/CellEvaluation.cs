using Farm.Engine.Metrics;
using Farm.Engine.Thresholds;

namespace Farm.Engine.Pipeline;

/// <summary>One threshold method's thresholds (estimated on validation) and the test metrics at those thresholds.</summary>
public sealed record ThresholdEvaluation(
    string Method,
    double ImageThreshold,
    double PixelThreshold,
    ImageInferenceValues Image,
    PixelInferenceValues Pixel);

/// <summary>
/// Every metric of one cell, from one set of scores: threshold-independent metrics on the test images, and for each
/// threshold method its image and pixel thresholds from the validation images applied to the test images.
/// </summary>
public sealed record CellEvaluation(
    ImageMetricValues Image,
    PixelMetricValues Pixel,
    IReadOnlyList<ThresholdEvaluation> Thresholds)
{
    public static CellEvaluation Evaluate(ScoredImages validation, ScoredImages test, IEnumerable<string> thresholdMethods)
    {
        var testPixels = PixelsOf(test);
        var validationPixels = PixelsOf(validation);
        var thresholds = thresholdMethods.Select(method =>
        {
            var imageThreshold = ThresholdMethods.Estimate(method, validation.ImageScores, validation.IsAnomalous, validation.Names);
            var pixelThreshold = ThresholdMethods.Estimate(method, validationPixels);
            return new ThresholdEvaluation(
                method,
                imageThreshold,
                pixelThreshold,
                InferenceMetrics.AtImageThreshold(test.ImageScores, test.IsAnomalous, imageThreshold, test.Names),
                InferenceMetrics.AtPixelThreshold(testPixels, pixelThreshold));
        }).ToList();
        return new CellEvaluation(
            ImageMetrics.Compute(test.ImageScores, test.IsAnomalous, test.Names),
            PixelMetricSuite.Compute(testPixels),
            thresholds);
    }

    private static PixelScoreMaps PixelsOf(ScoredImages scored) =>
        new(scored.Maps, scored.Masks, scored.Size, scored.Size, scored.Names, scored.IsAnomalous);
}
