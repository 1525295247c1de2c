using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.PatchCore;
using Farm.Engine.Tests.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class PatchCoreDetectorTests
{
    private static ModelOptions Options(int size = 32, int seed = 1, params (string Key, string Value)[] settings) =>
        new(size, seed, Options: settings.ToDictionary(pair => pair.Key, pair => pair.Value));

    [Fact]
    public void IsRegisteredAsPatchCoreWithTheProtocolDefaults()
    {
        Assert.Contains("patchcore", ModelRegistry.Names);
        using var detector = (PatchCoreDetector)ModelRegistry.Create("PatchCore", Options());
        Assert.Equal("patchcore", detector.Name);
        Assert.Equal(0.1, detector.CoresetRatio);
        Assert.Equal(9, detector.Model.NumNeighbors);
        Assert.Equal(128, detector.ProjectionDim);
        Assert.Equal(128 + 256, detector.Model.Channels);
        Assert.Equal(4, detector.Model.FeatureSize);
    }

    [Theory]
    [InlineData("coreset_ratio", "0")]
    [InlineData("coreset_ratio", "1.5")]
    [InlineData("coreset_ratio", "most")]
    [InlineData("num_neighbors", "0")]
    [InlineData("projection_dim", "-1")]
    [InlineData("coreset", "0.1")]
    public void BadSettingsNameTheField(string key, string value)
    {
        var error = Assert.Throws<FarmException>(() => new PatchCoreDetector(Options(settings: (key, value))));
        Assert.Equal(key, error.Field);
    }

    [Fact]
    public void TooSmallImagesPredictBeforeFitAndRefitFail()
    {
        Assert.Equal("image_size", Assert.Throws<FarmException>(() => new PatchCoreDetector(Options(size: 16))).Field);
        using var detector = new PatchCoreDetector(Options());
        using var batch = TensorTestSupport.Randn(1, 2, 3, 32, 32);
        Assert.Throws<InvalidOperationException>(() => detector.Predict(batch));
        Assert.Throws<FarmException>(() => detector.Fit([]));
        using var wrongSize = zeros(1, 3, 64, 64);
        Assert.Throws<ArgumentException>(() => detector.Fit([wrongSize]));
        detector.Fit([batch]);
        Assert.Throws<InvalidOperationException>(() => detector.Fit([batch]));
        Assert.Throws<ArgumentException>(() => detector.Predict(wrongSize));
    }

    [Fact]
    public void CoresetSizeFollowsTheRatio()
    {
        Assert.Equal(64, PatchCoreDetector.CoresetSize(640, 0.1));
        Assert.Equal(1638, PatchCoreDetector.CoresetSize(16384, 0.1));
        Assert.Equal(640, PatchCoreDetector.CoresetSize(640, 1.0));
        Assert.Equal(1, PatchCoreDetector.CoresetSize(640, 1e-6));

        using var detector = new PatchCoreDetector(Options(settings: ("coreset_ratio", "0.25")));
        using var train = TensorTestSupport.Randn(2, 5, 3, 32, 32);
        detector.Fit([train[..2], train[2..]]);
        Assert.Equal(5 * 16, detector.TrainingPatches);
        Assert.Equal(20, detector.Model.MemoryBankSize);
        Assert.Equal(20, detector.CoresetIndices.Distinct().Count());
        Assert.Equal(PatchCoreDetector.FirstCentre(80, seed: 1), detector.CoresetIndices[0]);
        // The bank is in the state dict, with its fitted shape.
        Assert.Equal(new long[] { 20, 384 }, detector.Model.state_dict()["memory_bank"].shape);
    }

    [Fact]
    public void ScoresAreReweightedMaximaAndMapsArePlausible()
    {
        using var train = TensorTestSupport.Randn(3, 6, 3, 32, 32);
        using var test = TensorTestSupport.Randn(4, 3, 3, 32, 32);
        using var plain = new PatchCoreDetector(Options(settings: ("num_neighbors", "1")));
        using var weighted = new PatchCoreDetector(Options(settings: ("num_neighbors", "9")));
        plain.Fit([train]);
        weighted.Fit([train]);
        Assert.Equal(plain.CoresetIndices, weighted.CoresetIndices);

        var maxima = plain.Predict(test);
        var scored = weighted.Predict(test);
        using var noGrad = no_grad();
        var (patchScores, _) = plain.Model.Score(test);
        using var largest = patchScores.amax([1, 2, 3]);
        var expected = largest.data<float>().ToArray();
        Assert.Equal((32, 32), (scored.Height, scored.Width));
        for (var i = 0; i < 3; i++)
        {
            // k = 1: the largest patch score itself; k = 9: w·s* with w in (0, 1).
            Assert.Equal(expected[i], maxima.ImageScores[i]);
            Assert.True(scored.ImageScores[i] > 0 && scored.ImageScores[i] < expected[i], $"image {i}: {scored.ImageScores[i]} vs s* {expected[i]}");
            Assert.Equal(32 * 32, scored.Maps[i].Length);
            Assert.All(scored.Maps[i], value => Assert.True(value >= 0 && float.IsFinite(value)));
            Assert.Equal(maxima.Maps[i], scored.Maps[i]);
        }

        patchScores.Dispose();
    }

    [Fact]
    public void ChunkedSearchGivesTheSameResultsAsOneBlock()
    {
        using var train = TensorTestSupport.Randn(5, 4, 3, 32, 32);
        using var test = TensorTestSupport.Randn(6, 2, 3, 32, 32);
        using var detector = new PatchCoreDetector(Options(settings: ("coreset_ratio", "0.5")));
        detector.Fit([train]);
        // Same weights (same seed), a 16 KiB budget: many query and bank chunks.
        using var chunked = new PatchCoreModel(BackboneRegistry.Create("resnet18", 1), 32, 9, searchBudgetBytes: 16 << 10);
        chunked.SetMemoryBank(detector.Model.MemoryBank);
        using var noGrad = no_grad();
        var (maps, scores) = detector.Model.forward(test);
        var (chunkedMaps, chunkedScores) = chunked.forward(test);
        using (maps)
        using (scores)
        using (chunkedMaps)
        using (chunkedScores)
        {
            Assert.True(TensorTestSupport.Same(maps, chunkedMaps), "maps differ");
            Assert.True(TensorTestSupport.Same(scores, chunkedScores), "scores differ");
        }
    }

    [Fact]
    public void SelectionWithoutProjectionRunsOnTheRawFeatures()
    {
        using var train = TensorTestSupport.Randn(7, 3, 3, 32, 32);
        using var detector = new PatchCoreDetector(Options(settings: [("projection_dim", "0"), ("coreset_ratio", "0.2")]));
        detector.Fit([train]);
        using var noGrad = no_grad();
        using var features = detector.Model.PatchFeatures(train);
        var expected = Farm.Engine.Models.Components.KCenterGreedy.Select(features, 9, PatchCoreDetector.FirstCentre(48, seed: 1));
        Assert.Equal(expected, detector.CoresetIndices);
    }

    [Fact]
    public void SameSeedSameScoresOtherSeedOtherCoreset()
    {
        using var train = TensorTestSupport.Randn(8, 6, 3, 32, 32);
        using var test = TensorTestSupport.Randn(9, 3, 3, 32, 32);

        (float[] Scores, float[] Map, long[] Coreset) Run(int seed)
        {
            using var detector = new PatchCoreDetector(Options(seed: seed));
            detector.Fit([train[..3], train[3..]]);
            var scored = detector.Predict(test);
            return (scored.ImageScores, scored.Maps[0], [.. detector.CoresetIndices]);
        }

        var first = Run(11);
        var second = Run(11);
        var other = Run(12);
        Assert.Equal(first.Scores, second.Scores);
        Assert.Equal(first.Map, second.Map);
        Assert.Equal(first.Coreset, second.Coreset);
        Assert.NotEqual(first.Coreset, other.Coreset);
        Assert.NotEqual(first.Scores, other.Scores);
    }
}
