using Farm.Engine.Models;
using Farm.Engine.Models.SimpleNet;
using Farm.Engine.Tests.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class SimpleNetDetectorTests
{
    private static SimpleNetDetector Create(int size, int seed = 1, Dictionary<string, string>? settings = null) =>
        (SimpleNetDetector)ModelRegistry.Create("simplenet", new ModelOptions(size, seed, "resnet18", Options: settings));

    [Fact]
    public void IsRegisteredAsATrainedModelWithThePapersDefaults()
    {
        Assert.True(ModelRegistry.Trains("simplenet"));
        using var detector = Create(64);
        Assert.Equal(160, detector.Epochs);
        Assert.Equal(1536, detector.Dimension);
        Assert.Equal(0.015, detector.NoiseStd);
        Assert.Equal(8, detector.FeatureSize);
    }

    [Fact]
    public void PatchFeaturesHaveOneRowPerLayer2PositionOfTheChosenDimension()
    {
        using var detector = Create(64, settings: new() { ["embed_dim"] = "96" });
        using var batch = TensorTestSupport.Randn(41, 2, 3, 64, 64);

        using var features = SimpleNetFeatures.Extract(detector.Backbone, batch, detector.Dimension);

        Assert.Equal([2L * 8 * 8, 96], features.shape);
        Assert.False(features.requires_grad);
    }

    [Fact]
    public void TheNoiseStreamDependsOnTheSeedOnlyAndLeavesTheGlobalGeneratorAlone()
    {
        using var first = SimpleNetDetector.NoiseGenerator(3);
        using var again = SimpleNetDetector.NoiseGenerator(3);
        using var other = SimpleNetDetector.NoiseGenerator(4);
        var globalBefore = random.get_rng_state();

        using var a = SimpleNetDetector.DrawNoise(first, [5, 7], 0.015);
        using var b = SimpleNetDetector.DrawNoise(again, [5, 7], 0.015);
        using var c = SimpleNetDetector.DrawNoise(other, [5, 7], 0.015);

        Assert.True(TensorTestSupport.Same(a, b));
        Assert.False(TensorTestSupport.Same(a, c));
        using var globalAfter = random.get_rng_state();
        Assert.True(TensorTestSupport.Same(globalBefore, globalAfter));
        globalBefore.Dispose();
        using var std = a.std();
        Assert.InRange(std.item<float>(), 0.008, 0.025);
    }

    [Theory]
    [InlineData("embed_dim", "0")]
    [InlineData("noise_std", "-1")]
    [InlineData("noise", "0.1")]
    public void BadSettingsAreRefusedNamingTheSetting(string key, string value)
    {
        var error = Assert.Throws<FarmException>(() => Create(64, settings: new() { [key] = value }));
        Assert.Equal(key, error.Field);
    }

    [Fact]
    public void TooSmallAnImageIsRefusedNamingTheField()
    {
        var error = Assert.Throws<FarmException>(() => Create(16));
        Assert.Equal("image_size", error.Field);
    }
}
