using System.Globalization;
using Farm.Engine.Imaging;
using Farm.Engine.Models;
using Farm.Engine.Models.Training;
using Xunit.Abstractions;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// The attention VAE end to end at 32 px, 5 epochs. Its anomaly map is gradient attention on encoder features, which
/// highlights image content that drives the latent code: as in the paper's experiments (a digit's extra stroke, a
/// defect on a plain part) it localises content that normal images lack. The normal class is therefore a plain
/// surface (random tint, gentle gradient, pixel noise); anomalies add a reddish spot or a dark scratch. On the
/// textured products of the synthetic generator (fabric weave, widget on a backdrop) its attention follows the texture:
/// image AUROC about 0.6 at 64 px after 10 epochs, which is why they are not used here.
/// At this scale the attention moves a lot from epoch to epoch (Adam at the official lr of 1e-3 changes the weights by
/// about 10 % a step): single seeds range from about 0.5 to 1.0 over epochs 1-8, so the bar is on the mean of three seeds.
/// </summary>
public class VaeSeparationTests(ITestOutputHelper output)
{
    private const int Size = 32;

    /// <summary>The bar: mean image AUROC over seeds 1-3 at least 0.8 (chance is 0.5), and no seed below 0.6.</summary>
    private const double MinimumMeanAuroc = 0.8;

    private const double MinimumSeedAuroc = 0.6;

    [Fact]
    public void RanksSpotsAndScratchesAbovePlainSurfacesAndIsDeterministic()
    {
        var random = new Random(2026);
        var train = Enumerable.Range(0, 24).Select(_ => Surface(random)).ToList();
        var normals = Enumerable.Range(0, 12).Select(_ => Surface(random)).ToList();
        var anomalies = Enumerable.Range(0, 12).Select(i => Defective(random, scratch: i % 2 == 1)).ToList();

        (List<float> Normal, List<float> Anomalous) Run(int seed)
        {
            using var detector = ModelRegistry.Create("vae", new ModelOptions(Size, seed,
                Options: new Dictionary<string, string> { [TrainedDetector.EpochsSetting] = "5" }));
            detector.Fit(SyntheticSeparation.Batches(train, Size, 4));
            return (SyntheticSeparation.Score(detector, normals, Size), SyntheticSeparation.Score(detector, anomalies, Size));
        }

        var runs = new[] { 1, 2, 3 }.Select(seed => (Seed: seed, Scores: Run(seed))).ToList();
        var aurocs = new List<double>();
        foreach (var (seed, (normalScores, anomalyScores)) in runs)
        {
            aurocs.Add(PadimSeparationTests.Auroc(normalScores, anomalyScores));
            output.WriteLine($"seed {seed}: image AUROC {aurocs[^1]:F3}; normal scores {Join(normalScores)}; anomalous {Join(anomalyScores)}");
        }

        output.WriteLine($"mean image AUROC {aurocs.Average():F3}");
        Assert.True(aurocs.Average() >= MinimumMeanAuroc, $"mean image AUROC {aurocs.Average():F3} is below the bar {MinimumMeanAuroc}");
        Assert.All(aurocs, auroc => Assert.True(auroc >= MinimumSeedAuroc, $"a seed's image AUROC {auroc:F3} is below {MinimumSeedAuroc}"));

        var (normalAgain, anomalousAgain) = Run(1);
        Assert.Equal(runs[0].Scores.Normal, normalAgain);
        Assert.Equal(runs[0].Scores.Anomalous, anomalousAgain);
    }

    private static string Join(IEnumerable<float> scores) => string.Join(", ", scores.Select(s => s.ToString("G3", CultureInfo.InvariantCulture)));

    /// <summary>A beige surface: random brightness, a gentle linear gradient in a random direction, pixel noise.</summary>
    internal static RgbImage Surface(Random random)
    {
        var pixels = new byte[Size * Size * 3];
        var level = 120 + (random.NextDouble() * 40);
        var (gx, gy) = ((random.NextDouble() * 2) - 1, (random.NextDouble() * 2) - 1);
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var value = level + (20 * ((gx * x) + (gy * y)) / Size) + ((random.NextDouble() - 0.5) * 24);
                var i = ((y * Size) + x) * 3;
                pixels[i] = SyntheticSeparation.Clamp(value * 1.05);
                pixels[i + 1] = SyntheticSeparation.Clamp(value * 0.95);
                pixels[i + 2] = SyntheticSeparation.Clamp(value * 0.8);
            }
        }

        return new RgbImage(Size, Size, pixels);
    }

    /// <summary>A surface with a reddish spot (radius 2-3 px) or a dark scratch (about 15 px long, 1 px wide).</summary>
    internal static RgbImage Defective(Random random, bool scratch)
    {
        var image = Surface(random);
        var pixels = image.Pixels;
        if (scratch)
        {
            var (x0, y0) = (5 + random.Next(10), 8 + random.Next(10));
            var angle = -0.8 + (random.NextDouble() * 0.3);
            for (var s = 0.0; s < 15; s += 0.5)
            {
                SyntheticSeparation.Paint(pixels, Size, (int)(x0 + (s * Math.Cos(angle))), (int)(y0 + (s * Math.Sin(angle)) + 7), 30, 25, 20);
            }
        }
        else
        {
            var (cx, cy, radius) = (6 + random.Next(20), 6 + random.Next(20), 2 + random.Next(2));
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
