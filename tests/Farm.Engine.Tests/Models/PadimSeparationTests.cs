using Farm.Engine.Imaging;
using Farm.Engine.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// End to end on images the test draws: a striped, noisy texture as the normal class; anomalies add a coloured blob
/// or a dark scratch. With a random (seeded) ResNet-18 PaDiM must still rank anomalies above normals.
/// </summary>
public class PadimSeparationTests(ITestOutputHelper output)
{
    private const int Size = 64;

    /// <summary>The bar: image AUROC at least 0.9 (chance is 0.5).</summary>
    private const double MinimumAuroc = 0.9;

    [Fact]
    public void RanksBlobsAndScratchesAboveNormalTexture()
    {
        var random = new Random(2024);
        var train = Enumerable.Range(0, 24).Select(_ => Texture(random)).ToList();
        var normals = Enumerable.Range(0, 12).Select(_ => Texture(random)).ToList();
        var anomalies = Enumerable.Range(0, 12).Select(i => Defective(random, scratch: i % 2 == 1)).ToList();

        using var detector = ModelRegistry.Create("padim", new ModelOptions(Size, Seed: 7));
        detector.Fit(Batches(train, 8));
        var normalScores = Score(detector, normals);
        var anomalyScores = Score(detector, anomalies);

        var auroc = Auroc(normalScores, anomalyScores);
        output.WriteLine($"image AUROC {auroc:F3}; normal scores {string.Join(", ", normalScores.Select(s => s.ToString("F1")))}; "
                         + $"anomalous {string.Join(", ", anomalyScores.Select(s => s.ToString("F1")))}");
        Assert.True(auroc >= MinimumAuroc, $"image AUROC {auroc:F3} is below the bar {MinimumAuroc}");
    }

    /// <summary>AUROC as the Mann-Whitney probability that an anomaly outscores a normal (ties count half).</summary>
    internal static double Auroc(IReadOnlyList<float> normal, IReadOnlyList<float> anomalous)
    {
        double wins = 0;
        foreach (var a in anomalous)
        {
            foreach (var n in normal)
            {
                wins += a > n ? 1 : a == n ? 0.5 : 0;
            }
        }

        return wins / (normal.Count * (double)anomalous.Count);
    }

    [Fact]
    public void AurocFormulaIsRight()
    {
        Assert.Equal(1.0, Auroc([1, 2], [3, 4]));
        Assert.Equal(0.0, Auroc([3, 4], [1, 2]));
        Assert.Equal(0.5, Auroc([1, 1], [1, 1]));
        Assert.Equal(0.75, Auroc([1, 3], [2, 4]));
    }

    internal static IEnumerable<Tensor> Batches(IReadOnlyList<RgbImage> images, int batchSize) =>
        SyntheticSeparation.Batches(images, Size, batchSize);

    internal static List<float> Score(IAnomalyDetector detector, IReadOnlyList<RgbImage> images) =>
        SyntheticSeparation.Score(detector, images, Size, batchSize: 6);

    /// <summary>Diagonal-ish stripes (period ~8 px, random phase and slight angle) in a beige tint, with pixel noise.</summary>
    internal static RgbImage Texture(Random random)
    {
        var pixels = new byte[Size * Size * 3];
        var angle = 0.6 + (random.NextDouble() * 0.1);
        var period = 7.5 + random.NextDouble();
        var phase = random.NextDouble() * 2 * Math.PI;
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var t = ((x * Math.Cos(angle)) + (y * Math.Sin(angle))) * 2 * Math.PI / period;
                var value = 130 + (50 * Math.Sin(t + phase)) + ((random.NextDouble() - 0.5) * 24);
                pixels[(((y * Size) + x) * 3) + 0] = SyntheticSeparation.Clamp(value * 1.05);
                pixels[(((y * Size) + x) * 3) + 1] = SyntheticSeparation.Clamp(value * 0.95);
                pixels[(((y * Size) + x) * 3) + 2] = SyntheticSeparation.Clamp(value * 0.8);
            }
        }

        return new RgbImage(Size, Size, pixels);
    }

    internal static RgbImage Defective(Random random, bool scratch)
    {
        var image = Texture(random);
        var pixels = image.Pixels;
        if (scratch)
        {
            // A dark line, 2 px thick, about 30 px long, at an angle across the stripes.
            var (x0, y0) = (10 + random.Next(20), 10 + random.Next(20));
            var angle = -0.8 + (random.NextDouble() * 0.3);
            for (var s = 0.0; s < 30; s += 0.5)
            {
                var cx = (int)(x0 + (s * Math.Cos(angle)));
                var cy = (int)(y0 + (s * Math.Sin(angle)) + 15);
                for (var d = 0; d < 2; d++)
                {
                    SyntheticSeparation.Paint(pixels, Size, cx, cy + d, 30, 25, 20);
                }
            }
        }
        else
        {
            // A reddish blob of radius 4-6.
            var (cx, cy, radius) = (12 + random.Next(40), 12 + random.Next(40), 4 + random.Next(3));
            for (var y = cy - radius; y <= cy + radius; y++)
            {
                for (var x = cx - radius; x <= cx + radius; x++)
                {
                    if (((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) <= radius * radius)
                    {
                        SyntheticSeparation.Paint(pixels, Size, x, y, 200, 60, 50);
                    }
                }
            }
        }

        return image;
    }
}
