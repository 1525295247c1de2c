namespace Farm.Engine.Metrics;

/// <summary>Pixel-level metrics pooled over every pixel of every image; NaN marks a metric undefined for the set.</summary>
public sealed record PixelMetricValues(double Auroc, double Aupro, double F1Max, double IouMax)
{
    /// <summary>Every metric NaN: for images without pixel ground truth.</summary>
    public static PixelMetricValues Undefined { get; } = new(double.NaN, double.NaN, double.NaN, double.NaN);
}

/// <summary>
/// Pixel-level metrics of docs/protocols.md from a single sort of the pooled scores: AUROC (ties as scikit-learn),
/// AUPRO (MVTec AD per-region overlap), F1max and IoU-max over the thresholds "score ≥ t", t every distinct score.
/// </summary>
/// <remarks>
/// Edge cases: with no anomalous pixel every metric is NaN (AUPRO has no region to average over). With no normal pixel
/// AUROC and AUPRO are NaN (no FPR axis) while F1max and IoU-max are 1. With all scores tied there is one operating
/// point: AUROC = 0.5, F1max = 2P/(2P+N), IoU-max = P/(P+N), and the PRO curve is the straight line from (0,0) to
/// (1,1), so AUPRO = limit/2. NaN or infinite scores throw <see cref="FarmException"/> naming image and pixel index.
/// </remarks>
public static class PixelMetricSuite
{
    /// <summary>Default upper FPR limit of the AUPRO integral.</summary>
    public const double DefaultAuproFprLimit = 0.3;

    public static PixelMetricValues Compute(
        IReadOnlyList<float[]> maps,
        IReadOnlyList<bool[]> masks,
        int width,
        int height,
        IReadOnlyList<string>? imageNames = null,
        double auproFprLimit = DefaultAuproFprLimit) =>
        Compute(new PixelScoreMaps(maps, masks, width, height, imageNames), auproFprLimit);

    /// <param name="data">Validated test maps and masks.</param>
    /// <param name="auproFprLimit">FPR up to which the PRO curve is integrated (then divided by it), in (0, 1].</param>
    public static PixelMetricValues Compute(PixelScoreMaps data, double auproFprLimit = DefaultAuproFprLimit)
    {
        if (!(auproFprLimit > 0 && auproFprLimit <= 1))
        {
            throw new FarmException($"AUPRO FPR limit {auproFprLimit} is outside (0, 1]", field: "aupro-fpr-limit");
        }

        var sweep = PixelCurve.Build(data).Sweep(auproFprLimit);
        return new PixelMetricValues(sweep.Auroc, sweep.Aupro, sweep.F1Max, sweep.IouMax);
    }
}
