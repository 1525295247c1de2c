using Farm.Engine.Models;
using Xunit.Abstractions;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// End to end on the synthetic striped texture of <see cref="PadimSeparationTests"/> (blobs and scratches as
/// anomalies): with a random (seeded) ResNet-18 and the default 10 % coreset, PatchCore must rank anomalies above
/// normals.
/// </summary>
public class PatchCoreSeparationTests(ITestOutputHelper output)
{
    private const int Size = 64;

    /// <summary>The bar: image AUROC at least 0.9 (chance is 0.5).</summary>
    private const double MinimumAuroc = 0.9;

    [Fact]
    public void RanksBlobsAndScratchesAboveNormalTexture()
    {
        var random = new Random(2025);
        var train = Enumerable.Range(0, 24).Select(_ => PadimSeparationTests.Texture(random)).ToList();
        var normals = Enumerable.Range(0, 12).Select(_ => PadimSeparationTests.Texture(random)).ToList();
        var anomalies = Enumerable.Range(0, 12).Select(i => PadimSeparationTests.Defective(random, scratch: i % 2 == 1)).ToList();

        using var detector = ModelRegistry.Create("patchcore", new ModelOptions(Size, Seed: 7, Backbone: "resnet18"));
        detector.Fit(PadimSeparationTests.Batches(train, 8));
        var normalScores = PadimSeparationTests.Score(detector, normals);
        var anomalyScores = PadimSeparationTests.Score(detector, anomalies);

        var auroc = PadimSeparationTests.Auroc(normalScores, anomalyScores);
        output.WriteLine($"image AUROC {auroc:F3}; normal scores {string.Join(", ", normalScores.Select(s => s.ToString("F2")))}; "
                         + $"anomalous {string.Join(", ", anomalyScores.Select(s => s.ToString("F2")))}");
        Assert.True(auroc >= MinimumAuroc, $"image AUROC {auroc:F3} is below the bar {MinimumAuroc}");
    }
}
