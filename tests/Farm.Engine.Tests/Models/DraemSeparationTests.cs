using System.Globalization;
using Farm.Engine.Models;
using Farm.Engine.Models.Training;
using Xunit.Abstractions;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// DRAEM end to end on the synthetic generator's widget (a metal part on a backdrop; broken edges, scratches, dents,
/// contamination and combined defects) at 64 px: 24 training images, the official learning rate (1e-4) and schedule,
/// its procedural and self-cropped anomaly sources (no texture folder), but narrow networks (widths 16 and 8 instead of
/// 128 and 64) and 100 epochs instead of 700, to stay small. Observed: image AUROC about 0.6 after 20-60 epochs, 0.8-0.95
/// after 80-120 (fabric, the textured product, 0.8-0.9 after 100-120).
/// </summary>
public class DraemSeparationTests(ITestOutputHelper output)
{
    private const int Size = 64;

    /// <summary>The bar: image AUROC at least 0.8 (chance is 0.5).</summary>
    private const double MinimumAuroc = 0.8;

    [Fact]
    public void RanksTheWidgetsDefectsAboveNormalWidgets()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var detector = ModelRegistry.Create("draem", new ModelOptions(Size, Seed: 3, Options: new Dictionary<string, string>
        {
            [TrainedDetector.EpochsSetting] = "100",
            ["reconstructive_width"] = "16",
            ["discriminative_width"] = "8",
        }));
        var (train, normals, anomalies) = SyntheticSeparation.Images("widget", Size, train: 24, testNormal: 12, perDefect: 3, seed: 1);
        var batches = SyntheticSeparation.Batches(train, Size, 4).Select(batch => batch.clone()).ToList();
        ((TrainedDetector)detector).Train(_ => batches);
        batches.ForEach(batch => batch.Dispose());

        var normalScores = SyntheticSeparation.Score(detector, normals, Size);
        var anomalyScores = SyntheticSeparation.Score(detector, anomalies, Size);
        var auroc = PadimSeparationTests.Auroc(normalScores, anomalyScores);
        output.WriteLine($"image AUROC {auroc:F3} in {clock.Elapsed.TotalSeconds:F0} s; normal scores {Join(normalScores)}; anomalous {Join(anomalyScores)}");
        Assert.True(auroc >= MinimumAuroc, $"image AUROC {auroc:F3} is below the bar {MinimumAuroc}");
    }

    private static string Join(IEnumerable<float> scores) => string.Join(", ", scores.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)));
}
