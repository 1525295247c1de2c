using Farm.Engine.Metrics;

namespace Farm.Engine.Evaluation;

/// <summary>
/// Scores of a set of images: per image its name (for error messages and labels), label, image score, and an anomaly
/// map and ground-truth mask of Width × Height, row-major. Produced by a cell's model or read by `farm evaluate`.
/// A null mask means the image's pixel ground truth is unknown (an anomalous image of a dataset without masks); the
/// set then has no pixel metrics (<see cref="HasPixelGroundTruth"/>).
/// </summary>
public sealed record ScoredImages
{
    public ScoredImages(
        IReadOnlyList<string> names,
        bool[] isAnomalous,
        float[] imageScores,
        IReadOnlyList<float[]> maps,
        IReadOnlyList<bool[]?> masks,
        int width,
        int height)
    {
        var count = names.Count;
        if (isAnomalous.Length != count || imageScores.Length != count || maps.Count != count || masks.Count != count)
        {
            throw new ArgumentException(
                $"scored images disagree in count: {count} names, {isAnomalous.Length} labels, {imageScores.Length} " +
                $"scores, {maps.Count} maps, {masks.Count} masks");
        }

        Names = names;
        IsAnomalous = isAnomalous;
        ImageScores = imageScores;
        Maps = maps;
        Masks = masks;
        Width = width;
        Height = height;
        HasPixelGroundTruth = masks.All(mask => mask is not null);
    }

    public IReadOnlyList<string> Names { get; }

    public bool[] IsAnomalous { get; }

    public float[] ImageScores { get; }

    public IReadOnlyList<float[]> Maps { get; }

    public IReadOnlyList<bool[]?> Masks { get; }

    public int Width { get; }

    public int Height { get; }

    public int Count => Names.Count;

    public int AnomalousCount => IsAnomalous.Count(a => a);

    /// <summary>Whether every image has a mask, so that pixel metrics and pixel thresholds are defined for the set.</summary>
    public bool HasPixelGroundTruth { get; }

    /// <summary>The images at <paramref name="indices"/>, sharing (not copying) their maps and masks.</summary>
    public ScoredImages Subset(IReadOnlyList<int> indices) => new(
        indices.Select(i => Names[i]).ToList(),
        indices.Select(i => IsAnomalous[i]).ToArray(),
        indices.Select(i => ImageScores[i]).ToArray(),
        indices.Select(i => Maps[i]).ToList(),
        indices.Select(i => Masks[i]).ToList(),
        Width,
        Height);

    /// <summary>The maps and masks for pixel metrics; only for a set with <see cref="HasPixelGroundTruth"/>.</summary>
    public PixelScoreMaps Pixels() => HasPixelGroundTruth
        ? new(Maps, [.. Masks.Select(mask => mask!)], Width, Height, Names, IsAnomalous)
        : throw new InvalidOperationException(
            "pixel metrics need a mask for every image; this set holds anomalous images without pixel ground truth");
}

/// <summary>
/// The threshold-independent metrics of one set of scored images. Pixel metrics are NaN (undefined) when any image of
/// the set lacks pixel ground truth: treating its unknown defect pixels as normal would bias every pixel metric.
/// </summary>
public sealed record SetMetrics(ImageMetricValues Image, PixelMetricValues Pixel)
{
    /// <param name="images">The scored images.</param>
    /// <param name="pixels">Their <see cref="ScoredImages.Pixels"/> when the caller already built (and checked) them.</param>
    public static SetMetrics Compute(ScoredImages images, PixelScoreMaps? pixels = null) => new(
        ImageMetrics.Compute(images.ImageScores, images.IsAnomalous, images.Names),
        images.HasPixelGroundTruth ? PixelMetricSuite.Compute(pixels ?? images.Pixels()) : PixelMetricValues.Undefined);
}
