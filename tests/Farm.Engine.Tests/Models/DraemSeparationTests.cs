using System.Globalization;
using Farm.Engine.Models;
using Farm.Engine.Models.Training;
using Xunit.Abstractions;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// DRAEM end to end at 32 px on the plain surfaces of <see cref="VaeSeparationTests"/> (random tint, gradient and pixel
/// noise; anomalies: a reddish spot or a dark scratch): 24 training images, the official learning rate (1e-4) and
/// schedule, its procedural and self-cropped anomaly sources (no texture folder), but narrow networks (widths 16 and 8
/// instead of 128 and 64) and 25 epochs instead of 700, to stay small. A seed's AUROC varies at this scale (seeds 1-3:
/// 0.95-1.0; seed 5: 0.71, seed 7: 0.81 after 40 epochs), so the bar is on the mean of seeds 1-3. Observed while
/// choosing the test: on the synthetic generator's widget at 64 px (widths 16 and 8) AUROC about 0.6 up to epoch 60 and
/// 0.88 after 100 epochs, which takes about a minute — too slow for a unit test.
/// </summary>
public class DraemSeparationTests(ITestOutputHelper output)
{
    private const int Size = 32;

    /// <summary>The bar: mean image AUROC over seeds 1-3 at least 0.85 (chance is 0.5), and no seed below 0.7.</summary>
    private const double MinimumMeanAuroc = 0.85;

    private const double MinimumSeedAuroc = 0.7;

    [Fact]
    public void RanksSpotsAndScratchesAbovePlainSurfaces()
    {
        var random = new Random(2026);
        var train = Enumerable.Range(0, 24).Select(_ => VaeSeparationTests.Surface(random)).ToList();
        var normals = Enumerable.Range(0, 12).Select(_ => VaeSeparationTests.Surface(random)).ToList();
        var anomalies = Enumerable.Range(0, 12).Select(i => VaeSeparationTests.Defective(random, scratch: i % 2 == 1)).ToList();
        var aurocs = new List<double>();
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var detector = ModelRegistry.Create("draem", new ModelOptions(Size, seed, Options: new Dictionary<string, string>
            {
                [TrainedDetector.EpochsSetting] = "25",
                ["reconstructive_width"] = "16",
                ["discriminative_width"] = "8",
            }));
            detector.Fit(SyntheticSeparation.Batches(train, Size, 4));
            var normalScores = SyntheticSeparation.Score(detector, normals, Size);
            var anomalyScores = SyntheticSeparation.Score(detector, anomalies, Size);
            aurocs.Add(PadimSeparationTests.Auroc(normalScores, anomalyScores));
            output.WriteLine($"seed {seed}: image AUROC {aurocs[^1]:F3} in {clock.Elapsed.TotalSeconds:F0} s; normal scores {Join(normalScores)}; anomalous {Join(anomalyScores)}");
        }

        output.WriteLine($"mean image AUROC {aurocs.Average():F3}");
        Assert.True(aurocs.Average() >= MinimumMeanAuroc, $"mean image AUROC {aurocs.Average():F3} is below the bar {MinimumMeanAuroc}");
        Assert.All(aurocs, auroc => Assert.True(auroc >= MinimumSeedAuroc, $"a seed's image AUROC {auroc:F3} is below {MinimumSeedAuroc}"));
    }

    private static string Join(IEnumerable<float> scores) => string.Join(", ", scores.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)));
}
