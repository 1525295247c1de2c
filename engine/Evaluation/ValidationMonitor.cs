using Farm.Engine.Metrics;
using Farm.Engine.Sweeps;

namespace Farm.Engine.Evaluation;

/// <summary>
/// The one metric early stopping watches on the validation split after every epoch (see
/// <see cref="ValidationStrategySettings.Monitors"/>); only that metric is computed, since this runs once per epoch.
/// NaN when it is undefined on the split (e.g. no anomalous validation image).
/// </summary>
public static class ValidationMonitor
{
    public static double Value(string monitor, ScoredImages validation) => monitor switch
    {
        "image_auroc" => Image(validation).Auroc,
        "image_aupr" => Image(validation).Aupr,
        "image_f1max" => Image(validation).F1Max,
        "pixel_auroc" => Pixel(monitor, validation).Auroc,
        "pixel_aupro" => Pixel(monitor, validation).Aupro,
        "pixel_f1max" => Pixel(monitor, validation).F1Max,
        _ => throw new FarmException(
            $"unknown early-stopping monitor '{monitor}' (known: {string.Join(", ", ValidationStrategySettings.Monitors)})",
            field: "conditions.validation_strategy.monitor"),
    };

    private static ImageMetricValues Image(ScoredImages scored) =>
        ImageMetrics.Compute(scored.ImageScores, scored.IsAnomalous, scored.Names);

    private static PixelMetricValues Pixel(string monitor, ScoredImages scored) => scored.HasPixelGroundTruth
        ? PixelMetricSuite.Compute(scored.Pixels())
        : throw new FarmException(
            $"early stopping on {monitor} needs a mask for every validation image, but this dataset has anomalous " +
            "images without masks; monitor an image metric instead", field: "conditions.validation_strategy.monitor");
}
