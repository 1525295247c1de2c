namespace Farm.Engine.Metrics;

/// <summary>
/// Anomaly maps with their ground-truth masks, validated once: every map and mask is row-major
/// <see cref="Height"/>×<see cref="Width"/> and every score is finite. The arrays are referenced, not copied; do not
/// change them while this object is in use.
/// </summary>
public sealed class PixelScoreMaps
{
    /// <param name="maps">One anomaly map per image.</param>
    /// <param name="masks">One mask per image; true marks an anomalous pixel.</param>
    /// <param name="width">Map width in pixels.</param>
    /// <param name="height">Map height in pixels.</param>
    /// <param name="imageNames">Names for error messages, index-aligned; null names images by index.</param>
    /// <param name="imageIsAnomalous">Image labels; null treats an image as normal iff its mask is empty. Only the
    /// threshold methods that use normal-image pixels (normal-stats, percentile) read them.</param>
    /// <exception cref="FarmException">A map or mask of the wrong size, or a NaN or infinite score.</exception>
    public PixelScoreMaps(
        IReadOnlyList<float[]> maps,
        IReadOnlyList<bool[]> masks,
        int width,
        int height,
        IReadOnlyList<string>? imageNames = null,
        IReadOnlyList<bool>? imageIsAnomalous = null)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"map size {width}×{height} is not positive");
        }

        if (masks.Count != maps.Count)
        {
            throw new ArgumentException($"{maps.Count} anomaly maps but {masks.Count} masks", nameof(masks));
        }

        if (imageNames is not null && imageNames.Count != maps.Count)
        {
            throw new ArgumentException($"{maps.Count} anomaly maps but {imageNames.Count} names", nameof(imageNames));
        }

        if (imageIsAnomalous is not null && imageIsAnomalous.Count != maps.Count)
        {
            throw new ArgumentException(
                $"{maps.Count} anomaly maps but {imageIsAnomalous.Count} image labels", nameof(imageIsAnomalous));
        }

        if ((long)width * height * maps.Count > Array.MaxLength)
        {
            throw new FarmException(
                $"{maps.Count} maps of {width}×{height} exceed the {Array.MaxLength} pixels one evaluation can pool");
        }

        Maps = maps;
        Masks = masks;
        Width = width;
        Height = height;
        ImageNames = imageNames;

        var pixels = width * height;
        var isNormalImage = new bool[maps.Count];
        for (var i = 0; i < maps.Count; i++)
        {
            var name = ScoreValidation.ImageName(imageNames, i);
            if (maps[i].Length != pixels)
            {
                throw new FarmException(
                    $"anomaly map has {maps[i].Length} values, expected {width}×{height} = {pixels}", name, "anomaly map");
            }

            if (masks[i].Length != pixels)
            {
                throw new FarmException(
                    $"mask has {masks[i].Length} values, expected {width}×{height} = {pixels}", name, "mask");
            }

            ScoreValidation.RequireFiniteMap(maps[i], width, name);
            isNormalImage[i] = imageIsAnomalous is null ? Array.IndexOf(masks[i], true) < 0 : !imageIsAnomalous[i];
        }

        IsNormalImage = isNormalImage;
    }

    public IReadOnlyList<float[]> Maps { get; }
    public IReadOnlyList<bool[]> Masks { get; }
    public int Width { get; }
    public int Height { get; }
    public IReadOnlyList<string>? ImageNames { get; }

    /// <summary>Per image: true for a normal (defect-free) image.</summary>
    public IReadOnlyList<bool> IsNormalImage { get; }

    public int ImageCount => Maps.Count;
}
