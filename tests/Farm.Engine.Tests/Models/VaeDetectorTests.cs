using Farm.Engine.Models;
using Farm.Engine.Models.Training;
using Farm.Engine.Models.Vae;
using Farm.Engine.Tests.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class VaeDetectorTests
{
    private static VaeDetector Create(int size = 32, int seed = 1, string backbone = "resnet18", Dictionary<string, string>? settings = null) =>
        (VaeDetector)ModelRegistry.Create("vae", new ModelOptions(size, seed, backbone, Options: settings));

    [Fact]
    public void DefaultsAreThePapersAndTheOfficialCodes()
    {
        using var detector = Create();
        Assert.Equal(100, detector.Epochs);
        Assert.Equal(1e-3, detector.LearningRate);
        Assert.Equal(32, detector.Model.LatentSize);
        Assert.True(ModelRegistry.Trains("vae"));
    }

    [Theory]
    [InlineData(28, 2, 7)]      // the official MNIST network: 28 → 14 → 7
    [InlineData(16, 1, 8)]
    [InlineData(32, 2, 8)]
    [InlineData(36, 3, 4)]
    [InlineData(64, 3, 8)]
    [InlineData(100, 4, 6)]
    [InlineData(256, 5, 8)]
    public void TheEncoderHalvesTheImageUntilTheGridIsAtMostEight(int size, int depth, int grid)
    {
        Assert.Equal((depth, grid), VaeModel.Geometry(size));
    }

    [Theory]
    [InlineData(32)]
    [InlineData(36)]
    public void ShapesFollowTheGeometryAndTheDecoderReturnsTheInputSize(int size)
    {
        using var detector = Create(size, settings: new() { ["latent_size"] = "4", ["hidden_size"] = "16" });
        using var scope = NewDisposeScope();
        var batch = TensorTestSupport.Randn(1, 2, 3, size, size);
        var features = detector.Model.Features(batch);
        var grid = VaeModel.Geometry(size).Grid;
        Assert.Equal(new long[] { 2, 128, grid, grid }, features.shape);
        var (mu, logvar) = detector.Model.Head(features);
        Assert.Equal(new long[] { 2, 4 }, mu.shape);
        Assert.Equal(new long[] { 2, 4 }, logvar.shape);
        Assert.Equal(new long[] { 2, 3, size, size }, detector.Model.Decode(mu).shape);
        Assert.Equal(new long[] { 2, 1, size, size }, detector.Model.Attention(batch).shape);
    }

    [Fact]
    public void TheBackboneAndItsWeightsAreIgnored()
    {
        using var resnet = Create(backbone: "resnet18");
        using var wide = Create(backbone: "wide_resnet50_2");
        foreach (var (name, tensor) in resnet.Model.state_dict())
        {
            Assert.True(TensorTestSupport.Same(tensor, wide.Model.state_dict()[name]), name);
        }
    }

    [Fact]
    public void SeedsGiveDifferentInitialisations()
    {
        using var first = Create(seed: 1);
        using var second = Create(seed: 2);
        Assert.False(TensorTestSupport.Same(first.Model.state_dict()["hidden.weight"], second.Model.state_dict()["hidden.weight"]));
    }

    [Fact]
    public void TheLossIsTheBernoulliLikelihoodPlusTheKlDivergence()
    {
        // With ε = 0 and weights zeroed except the biases, every quantity is known in closed form.
        using var detector = Create(settings: new() { ["latent_size"] = "2", ["hidden_size"] = "4" });
        using (no_grad())
        {
            foreach (var (name, parameter) in detector.Model.named_parameters())
            {
                parameter.zero_();
                if (name == "mu.bias")
                {
                    parameter.copy_(tensor(new[] { 1f, -2f }));
                }
                else if (name == "logvar.bias")
                {
                    parameter.copy_(tensor(new[] { 0.5f, 0f }));
                }
            }
        }

        using var scope = NewDisposeScope();
        var batch = TensorTestSupport.Randn(3, 2, 3, 32, 32);
        var loss = detector.Model.Loss(batch, zeros(2, 2)).item<float>();
        // Decoder output: all-zero logits (sigmoid 0.5), so each pixel costs log 2 whatever its target.
        var reconstruction = 3 * 32 * 32 * Math.Log(2);
        var kl = -0.5 * ((1 + 0.5 - 1 - Math.Exp(0.5)) + (1 + 0 - 4 - 1));
        Assert.Equal(reconstruction + kl, loss, 0.01);
    }

    [Theory]
    [InlineData("latent_size", "0")]
    [InlineData("hidden_size", "x")]
    [InlineData("lr", "-1")]
    [InlineData("epochs", "0")]
    [InlineData("latentsize", "4")]
    public void BadSettingsAreRefusedNamingTheSetting(string key, string value)
    {
        var error = Assert.Throws<FarmException>(() => Create(settings: new() { [key] = value }));
        Assert.Equal(key, error.Field);
    }

    [Fact]
    public void ImagesSmallerThanSixteenPixelsAreRefused()
    {
        var error = Assert.Throws<FarmException>(() => Create(size: 8));
        Assert.Contains("16", error.Message);
        Assert.Equal("image_size", error.Field);
    }

    [Fact]
    public void TrainingNoiseIsSeededAndRestartsWithEachTrainingRun()
    {
        using var train = TensorTestSupport.Randn(5, 4, 3, 32, 32);
        using var test = TensorTestSupport.Randn(6, 2, 3, 32, 32);
        var settings = new Dictionary<string, string> { [TrainedDetector.EpochsSetting] = "1", ["hidden_size"] = "32" };
        using var first = Create(settings: settings);
        using var second = Create(settings: settings);
        using var otherNoise = Create(settings: settings);
        using var generator = new Generator(99);
        otherNoise.NoiseOverride = count => randn([count, otherNoise.Model.LatentSize], generator: generator);
        first.Fit([train]);
        second.Fit([train]);
        otherNoise.Fit([train]);

        Assert.Equal(first.EpochLosses, second.EpochLosses);
        Assert.Equal(first.Predict(test).ImageScores, second.Predict(test).ImageScores);
        // Same seed, so the same initial weights, but other noise: another loss. The noise is really used.
        Assert.NotEqual(first.EpochLosses, otherNoise.EpochLosses);
    }
}
