namespace Farm.Engine.Metrics;

/// <summary>
/// The pooled pixels of a set of maps, split into normal and anomalous pixels and each sorted once by score (radix
/// sort on sortable keys); anomalous pixels carry their ground-truth region. Every pixel metric and pixel threshold is
/// a linear pass over these arrays.
/// </summary>
internal sealed class PixelCurve
{
    private PixelCurve(uint[] normalKeys, uint[] anomalousKeys, int[] anomalousRegions, int[] regionSizes)
    {
        NormalKeys = normalKeys;
        AnomalousKeys = anomalousKeys;
        AnomalousRegions = anomalousRegions;
        RegionSizes = regionSizes;
    }

    /// <summary>Sortable keys of the normal pixels of all images, ascending.</summary>
    public uint[] NormalKeys { get; }

    /// <summary>Sortable keys of the anomalous pixels of all images, ascending.</summary>
    public uint[] AnomalousKeys { get; }

    /// <summary>Region of each entry of <see cref="AnomalousKeys"/>.</summary>
    public int[] AnomalousRegions { get; }

    public int[] RegionSizes { get; }

    public static PixelCurve Build(PixelScoreMaps data)
    {
        var pixelsPerImage = data.Width * data.Height;
        long anomalousCount = 0;
        foreach (var mask in data.Masks)
        {
            foreach (var anomalous in mask)
            {
                anomalousCount += anomalous ? 1 : 0;
            }
        }

        var normalKeys = new uint[(long)pixelsPerImage * data.ImageCount - anomalousCount];
        var anomalousKeys = new uint[anomalousCount];
        var anomalousRegions = new int[anomalousCount];
        var regionSizes = new List<int>();
        var regionOfPixel = new int[pixelsPerImage];
        var pending = new Stack<int>();
        int normalAt = 0, anomalousAt = 0;
        for (var image = 0; image < data.ImageCount; image++)
        {
            var map = data.Maps[image];
            var mask = data.Masks[image];
            RegionLabeler.Label(mask, data.Width, data.Height, regionSizes.Count, regionOfPixel, regionSizes, pending);
            for (var pixel = 0; pixel < pixelsPerImage; pixel++)
            {
                var key = SortableScoreKeys.ToKey(map[pixel]);
                if (mask[pixel])
                {
                    anomalousKeys[anomalousAt] = key;
                    anomalousRegions[anomalousAt++] = regionOfPixel[pixel];
                }
                else
                {
                    normalKeys[normalAt++] = key;
                }
            }
        }

        SortableScoreKeys.Sort(normalKeys);
        SortableScoreKeys.Sort(anomalousKeys, anomalousRegions);
        return new PixelCurve(normalKeys, anomalousKeys, anomalousRegions, regionSizes.ToArray());
    }

    public SweepResult Sweep(double auproFprLimit) =>
        RankedSweep.Run(NormalKeys, AnomalousKeys, AnomalousRegions, RegionSizes, auproFprLimit);
}
