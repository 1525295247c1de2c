namespace Farm.Engine.Metrics;

/// <summary>
/// Ground-truth regions for AUPRO: the 8-connected components of a mask (pixels touching only at a corner belong to
/// the same region), as scipy.ndimage.label with a 3×3 structure of ones finds them.
/// </summary>
internal static class RegionLabeler
{
    /// <summary>The number of 8-connected regions of a mask (the synthetic "combined" category needs at least two).</summary>
    public static int Count(bool[] mask, int width, int height)
    {
        var sizes = new List<int>();
        Label(mask, width, height, 0, new int[mask.Length], sizes, new Stack<int>());
        return sizes.Count;
    }

    /// <summary>
    /// Writes each mask pixel's region number (<paramref name="firstRegion"/> upwards, in raster order of the region's
    /// first pixel) into <paramref name="regionOfPixel"/>, -1 for background; appends each region's size.
    /// </summary>
    public static void Label(
        bool[] mask, int width, int height, int firstRegion, int[] regionOfPixel, List<int> regionSizes,
        Stack<int> pending)
    {
        Array.Fill(regionOfPixel, -1);
        var region = firstRegion;
        for (var start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || regionOfPixel[start] >= 0)
            {
                continue;
            }

            var size = 0;
            regionOfPixel[start] = region;
            pending.Push(start);
            while (pending.Count > 0)
            {
                var pixel = pending.Pop();
                size++;
                var row = pixel / width;
                var column = pixel % width;
                for (var neighbourRow = Math.Max(0, row - 1); neighbourRow <= Math.Min(height - 1, row + 1); neighbourRow++)
                {
                    for (var neighbourColumn = Math.Max(0, column - 1);
                         neighbourColumn <= Math.Min(width - 1, column + 1);
                         neighbourColumn++)
                    {
                        var neighbour = neighbourRow * width + neighbourColumn;
                        if (mask[neighbour] && regionOfPixel[neighbour] < 0)
                        {
                            regionOfPixel[neighbour] = region;
                            pending.Push(neighbour);
                        }
                    }
                }
            }

            regionSizes.Add(size);
            region++;
        }
    }
}
