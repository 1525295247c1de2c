using System.Diagnostics;
using Farm.Engine.Metrics;
using Xunit.Abstractions;

namespace Farm.Engine.Tests.Metrics;

public class PixelMetricsTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-10;

    [Fact]
    public void AuproMatchesThePublishedUnitVector()
    {
        // 400×7 map of arange(2800)/2800, column 3 the only region, limit 1/3: AUPRO = 1/6 (up to the within-row
        // stair steps, about 1e-6).
        const int width = 7, height = 400;
        var map = Enumerable.Range(0, width * height).Select(i => i / 2800f).ToArray();
        var mask = Enumerable.Range(0, width * height).Select(i => i % width == 3).ToArray();
        var metrics = PixelMetricSuite.Compute([map], [mask], width, height, auproFprLimit: 1.0 / 3);
        Assert.Equal(1.0 / 6, metrics.Aupro, 2e-6);
    }

    [Fact]
    public void MatchScikitLearnAndBruteForceReferencesOnRandomMaps()
    {
        // (maps, width, height, distinct noise levels (0 = continuous), AUPRO limit)
        var configurations = new (int Count, int Width, int Height, int Levels, double Limit)[]
        {
            (3, 16, 12, 5, 0.3), (6, 20, 20, 10, 0.3), (4, 31, 17, 0, 0.3), (5, 13, 9, 3, 0.05), (4, 24, 24, 8, 1.0),
        };
        using var reference = new MetricsReference();
        var cases = new List<(float[][] Maps, bool[][] Masks, int Width, int Height, double Limit)>();
        foreach (var (count, width, height, levels, limit) in configurations)
        {
            var (maps, masks) = MetricTestData.Pixel(seed: width * 100 + height + levels, count, width, height, levels);
            cases.Add((maps, masks, width, height, limit));
            reference.AddPixel(maps, masks, width, height, limit);
        }

        var expected = reference.Run();
        for (var i = 0; i < cases.Count; i++)
        {
            var (maps, masks, width, height, limit) = cases[i];
            var data = new PixelScoreMaps(maps, masks, width, height, MetricTestData.Names(maps.Length));
            var actual = PixelMetricSuite.Compute(data, limit);
            Assert.Equal(expected[i].Number("auroc"), actual.Auroc, Tolerance);
            Assert.Equal(expected[i].Number("aupro"), actual.Aupro, Tolerance);
            // The sorted (MVTec-official style) reference that the benchmark times agrees with the brute force.
            Assert.Equal(expected[i].Number("aupro_sorted"), actual.Aupro, Tolerance);
            Assert.Equal(expected[i].Number("f1max"), actual.F1Max, Tolerance);
            Assert.Equal(expected[i].Number("f1max_sklearn"), actual.F1Max, Tolerance);
            Assert.Equal(expected[i].Number("ioumax"), actual.IouMax, Tolerance);
            // scipy.ndimage.label with a 3×3 structure counts the same 8-connected regions (incl. diagonal contacts).
            Assert.Equal(expected[i].GetProperty("regions").GetInt32(), PixelCurve.Build(data).RegionSizes.Length);
        }
    }

    [Fact]
    public void DiagonalContactJoinsRegions()
    {
        // Checkerboard-like diagonal chain: 4-connectivity would see 3 regions, 8-connectivity sees 1; plus a separate
        // region two columns away.
        bool[] mask =
        [
            true, false, false, false, true,
            false, true, false, false, true,
            false, false, true, false, false,
        ];
        var data = new PixelScoreMaps([new float[15]], [mask], 5, 3);
        Assert.Equal([3, 2], PixelCurve.Build(data).RegionSizes);
    }

    [Fact]
    public void AllScoresTiedGiveTheSingleOperatingPoint()
    {
        var (_, masks) = MetricTestData.Pixel(seed: 5, count: 4, width: 10, height: 8, levels: 3);
        var maps = masks.Select(m => Enumerable.Repeat(0.5f, m.Length).ToArray()).ToArray();
        long positives = masks.Sum(m => m.Count(v => v));
        long negatives = masks.Length * 80 - positives;
        var metrics = PixelMetricSuite.Compute(maps, masks, 10, 8, auproFprLimit: 0.3);
        Assert.Equal(0.5, metrics.Auroc, Tolerance);
        Assert.Equal(0.15, metrics.Aupro, Tolerance);
        Assert.Equal(2.0 * positives / (2 * positives + negatives), metrics.F1Max, Tolerance);
        Assert.Equal((double)positives / (positives + negatives), metrics.IouMax, Tolerance);
    }

    [Fact]
    public void MissingClassesGiveNaNWhereUndefined()
    {
        var map = new[] { 0.1f, 0.5f, 0.3f, 0.9f };
        var noAnomalies = PixelMetricSuite.Compute([map], [new bool[4]], 2, 2);
        Assert.True(double.IsNaN(noAnomalies.Auroc));
        Assert.True(double.IsNaN(noAnomalies.Aupro));
        Assert.True(double.IsNaN(noAnomalies.F1Max));
        Assert.True(double.IsNaN(noAnomalies.IouMax));

        var allAnomalous = PixelMetricSuite.Compute([map], [[true, true, true, true]], 2, 2);
        Assert.True(double.IsNaN(allAnomalous.Auroc));
        Assert.True(double.IsNaN(allAnomalous.Aupro));
        Assert.Equal(1.0, allAnomalous.F1Max);
        Assert.Equal(1.0, allAnomalous.IouMax);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+infinity")]
    [InlineData(float.NegativeInfinity, "-infinity")]
    public void NonFinitePixelNamesImageAndPixel(float bad, string described)
    {
        var (maps, masks) = MetricTestData.Pixel(seed: 9, count: 3, width: 6, height: 5, levels: 4);
        maps[2][13] = bad;
        var error = Assert.Throws<FarmException>(
            () => PixelMetricSuite.Compute(maps, masks, 6, 5, MetricTestData.Names(3)));
        Assert.Equal("test/img_002.png", error.File);
        Assert.Contains("pixel index 13 (row 2, column 1)", error.Message);
        Assert.Contains(described, error.Message);
    }

    [Fact]
    public void WrongSizesAndLimitsAreRejected()
    {
        var map = new float[6];
        var wrongMap = Assert.Throws<FarmException>(
            () => PixelMetricSuite.Compute([map, new float[5]], [new bool[6], new bool[6]], 3, 2, ["a", "b"]));
        Assert.Equal("b", wrongMap.File);
        Assert.Throws<FarmException>(() => PixelMetricSuite.Compute([map], [new bool[7]], 3, 2));
        Assert.Throws<ArgumentException>(() => PixelMetricSuite.Compute([map], [], 3, 2));
        Assert.Throws<FarmException>(() => PixelMetricSuite.Compute([map], [new bool[6]], 3, 2, auproFprLimit: 0));
        Assert.Throws<FarmException>(() => PixelMetricSuite.Compute([map], [new bool[6]], 3, 2, auproFprLimit: 1.5));
    }

    [Fact]
    public void RadixSortOrdersKeysAsFloatsAndCarriesItems()
    {
        var random = new Random(3);
        var scores = Enumerable.Range(0, 5000)
            .Select(i => i % 97 == 0 ? -0f : (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 8))))
            .ToArray();
        var keys = Array.ConvertAll(scores, SortableScoreKeys.ToKey);
        var items = Enumerable.Range(0, scores.Length).ToArray();
        SortableScoreKeys.Sort(keys, items);

        var expected = (float[])scores.Clone();
        Array.Sort(expected);
        Assert.Equal(expected, Array.ConvertAll(keys, SortableScoreKeys.ToScore));
        Assert.All(Enumerable.Range(0, keys.Length), i => Assert.Equal(keys[i], SortableScoreKeys.ToKey(scores[items[i]])));
    }

    [Fact]
    public void TimingOfThePixelSuiteOnOneHundredMapsOf256()
    {
        const int side = 256, count = 100;
        var (maps, masks) = MetricTestData.Pixel(seed: 11, count, width: side, height: side, levels: 0);
        var data = new PixelScoreMaps(maps, masks, side, side);
        var watch = Stopwatch.StartNew();
        var metrics = PixelMetricSuite.Compute(data);
        watch.Stop();
        output.WriteLine(
            $"pixel suite on {count} maps of {side}×{side} ({count * side * side:N0} pixels): " +
            $"{watch.ElapsedMilliseconds} ms; {metrics}");
        Assert.InRange(metrics.Auroc, 0.5, 1.0);
    }
}
