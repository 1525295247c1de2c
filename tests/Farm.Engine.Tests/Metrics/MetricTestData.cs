namespace Farm.Engine.Tests.Metrics;

/// <summary>Seeded random inputs for the metric tests: scores with many ties and masks with several regions.</summary>
internal static class MetricTestData
{
    /// <summary>
    /// n image scores on <paramref name="levels"/> distinct values (0 = continuous), anomalous ones shifted up so the
    /// metrics are neither 0.5 nor 1; both classes present.
    /// </summary>
    public static (float[] Scores, bool[] Labels) Binary(int seed, int count, int levels, double anomalousRate)
    {
        var random = new Random(seed);
        var labels = new bool[count];
        var scores = new float[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i == 0 || (i != 1 && random.NextDouble() < anomalousRate);
            var noise = levels == 0 ? random.NextDouble() : random.Next(levels) / (double)levels;
            scores[i] = (float)(noise + (labels[i] ? 0.3 : 0.0) - 0.5);
        }

        return (scores, labels);
    }

    /// <summary>
    /// Maps with quantised noise plus a bump inside the mask. Every other image is normal; anomalous images get random
    /// rectangles (which may merge) and, on the first one, two blobs that touch only at a corner (one 8-connected
    /// region, two 4-connected ones).
    /// </summary>
    public static (float[][] Maps, bool[][] Masks) Pixel(int seed, int count, int width, int height, int levels)
    {
        var random = new Random(seed);
        var maps = new float[count][];
        var masks = new bool[count][];
        for (var image = 0; image < count; image++)
        {
            var mask = new bool[width * height];
            if (image % 2 == 1)
            {
                var rectangles = random.Next(1, 4);
                for (var r = 0; r < rectangles; r++)
                {
                    var w = random.Next(1, Math.Max(2, width / 3));
                    var h = random.Next(1, Math.Max(2, height / 3));
                    var x0 = random.Next(width - w + 1);
                    var y0 = random.Next(height - h + 1);
                    for (var y = y0; y < y0 + h; y++)
                    {
                        Array.Fill(mask, true, y * width + x0, w);
                    }
                }

                if (image == 1)
                {
                    // 2×2 blobs at (1,1) and (3,3): they meet only diagonally at (2,2)/(3,3).
                    Array.Clear(mask);
                    foreach (var (x, y) in new[] { (1, 1), (2, 1), (1, 2), (2, 2), (3, 3), (4, 3), (3, 4), (4, 4) })
                    {
                        mask[y * width + x] = true;
                    }

                    mask[(height - 1) * width + width - 1] = true; // a lone corner pixel: a third region
                }
            }

            var map = new float[width * height];
            for (var pixel = 0; pixel < map.Length; pixel++)
            {
                var noise = levels == 0 ? random.NextDouble() : random.Next(levels) / (double)levels;
                var bump = levels == 0 ? random.NextDouble() : random.Next(levels) / (double)levels;
                map[pixel] = (float)(noise + (mask[pixel] ? 0.4 * bump + 0.2 : 0.0));
            }

            maps[image] = map;
            masks[image] = mask;
        }

        return (maps, masks);
    }

    public static string[] Names(int count) => Enumerable.Range(0, count).Select(i => $"test/img_{i:D3}.png").ToArray();
}
