namespace Farm.Benchmarks;

/// <summary>
/// Deterministic benchmark data: smooth random anomaly maps (a coarse random grid upsampled bilinearly), with one to
/// three elliptical defect regions on every other image; the map rises over each region and a little beyond it, plus
/// fine noise so that almost every score is distinct (the hard case for sorting).
/// </summary>
internal static class SyntheticMaps
{
    public static (float[][] Maps, bool[][] Masks) Generate(int count, int size, int seed)
    {
        var maps = new float[count][];
        var masks = new bool[count][];
        for (var image = 0; image < count; image++)
        {
            var random = new Random(HashCode.Combine(seed, image));
            var map = SmoothBackground(random, size);
            var mask = new bool[size * size];
            if (image % 2 == 1)
            {
                for (var region = random.Next(1, 4); region > 0; region--)
                {
                    AddEllipse(random, map, mask, size);
                }
            }

            for (var i = 0; i < map.Length; i++)
            {
                map[i] += 0.05f * random.NextSingle();
            }

            maps[image] = map;
            masks[image] = mask;
        }

        return (maps, masks);
    }

    private static float[] SmoothBackground(Random random, int size)
    {
        const int grid = 9;
        var coarse = new float[grid * grid];
        for (var i = 0; i < coarse.Length; i++)
        {
            coarse[i] = 0.5f * random.NextSingle();
        }

        var map = new float[size * size];
        var scale = (grid - 1) / (float)(size - 1);
        for (var row = 0; row < size; row++)
        {
            var y = row * scale;
            var y0 = Math.Min((int)y, grid - 2);
            var fy = y - y0;
            for (var column = 0; column < size; column++)
            {
                var x = column * scale;
                var x0 = Math.Min((int)x, grid - 2);
                var fx = x - x0;
                var top = coarse[y0 * grid + x0] * (1 - fx) + coarse[y0 * grid + x0 + 1] * fx;
                var bottom = coarse[(y0 + 1) * grid + x0] * (1 - fx) + coarse[(y0 + 1) * grid + x0 + 1] * fx;
                map[row * size + column] = top * (1 - fy) + bottom * fy;
            }
        }

        return map;
    }

    private static void AddEllipse(Random random, float[] map, bool[] mask, int size)
    {
        var radiusY = 3 + random.Next(28);
        var radiusX = 3 + random.Next(28);
        var centreY = random.Next(size);
        var centreX = random.Next(size);
        var strength = 0.3f + 0.9f * random.NextSingle();
        // The score bump reaches 1.5 radii: detectors blur, so maps spill over the region's edge.
        for (var row = Math.Max(0, centreY - 2 * radiusY); row < Math.Min(size, centreY + 2 * radiusY); row++)
        {
            for (var column = Math.Max(0, centreX - 2 * radiusX); column < Math.Min(size, centreX + 2 * radiusX); column++)
            {
                var dy = (row - centreY) / (float)radiusY;
                var dx = (column - centreX) / (float)radiusX;
                var distance = dx * dx + dy * dy;
                if (distance <= 1)
                {
                    mask[row * size + column] = true;
                }

                if (distance < 2.25f)
                {
                    map[row * size + column] += strength * (1 - distance / 2.25f);
                }
            }
        }
    }
}
