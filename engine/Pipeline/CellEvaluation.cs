using Farm.Engine.Data;
using Farm.Engine.Evaluation;
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

/// <summary>The metrics of one reported subset of the test images ("all" or a defect category).</summary>
public sealed record SubsetEvaluation(
    DefectSubset Subset,
    int NormalCount,
    int AnomalousCount,
    SetMetrics Metrics,
    IReadOnlyList<ThresholdEvaluation> Thresholds);

/// <summary>
/// Every metric of one cell, from one set of scores: each threshold method estimates its image and pixel thresholds
/// once on the validation images; then, for "all" and for each labelled defect category, the threshold-independent
/// metrics and the metrics at those thresholds are computed on that subset of the test images. Without pixel ground
/// truth for every validation image the pixel thresholds are NaN, and without it for every image of a test subset
/// that subset's pixel metrics are NaN (see <see cref="ScoredImages.HasPixelGroundTruth"/>); image metrics are kept.
/// </summary>
public sealed record CellEvaluation(IReadOnlyList<SubsetEvaluation> Subsets)
{
    public static CellEvaluation Evaluate(
        ScoredImages validation,
        ScoredImages test,
        IEnumerable<string> thresholdMethods,
        Func<string, ProductLabel?>? labelOf = null)
    {
        var validationPixels = validation.HasPixelGroundTruth ? validation.Pixels() : null;
        var thresholds = thresholdMethods.Select(method => (
            Method: method,
            Image: ThresholdMethods.Estimate(method, validation.ImageScores, validation.IsAnomalous, validation.Names),
            Pixel: validationPixels is null ? double.NaN : ThresholdMethods.Estimate(method, validationPixels))).ToList();

        var subsets = DefectBreakdown.Subsets(test.Names, test.IsAnomalous, labelOf).Select(subset =>
        {
            var images = subset.DefectCategory == DefectBreakdown.All ? test : test.Subset(subset.Indices);
            var pixels = images.HasPixelGroundTruth ? images.Pixels() : null;
            return new SubsetEvaluation(
                subset,
                images.Count - images.AnomalousCount,
                images.AnomalousCount,
                SetMetrics.Compute(images, pixels),
                thresholds.Select(t => new ThresholdEvaluation(
                    t.Method,
                    t.Image,
                    t.Pixel,
                    InferenceMetrics.AtImageThreshold(images.ImageScores, images.IsAnomalous, t.Image, images.Names),
                    pixels is null || double.IsNaN(t.Pixel)
                        ? PixelInferenceValues.Undefined
                        : InferenceMetrics.AtPixelThreshold(pixels, t.Pixel))).ToList());
        }).ToList();
        return new CellEvaluation(subsets);
    }
}
