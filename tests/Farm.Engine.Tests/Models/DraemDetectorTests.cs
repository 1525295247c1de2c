using Farm.Engine.Imaging;
using Farm.Engine.Models;
using Farm.Engine.Models.Draem;
using Farm.Engine.Models.Training;
using Farm.Engine.Tests.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class DraemDetectorTests
{
    /// <summary>Tiny widths keep these tests fast; the defaults are checked apart.</summary>
    private static Dictionary<string, string> Tiny(int epochs = 1) => new()
    {
        [TrainedDetector.EpochsSetting] = epochs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["reconstructive_width"] = "4",
        ["discriminative_width"] = "2",
    };

    private static DraemDetector Create(int size = 32, int seed = 1, string backbone = "resnet18", Dictionary<string, string>? settings = null) =>
        (DraemDetector)ModelRegistry.Create("draem", new ModelOptions(size, seed, backbone, Options: settings));

    [Fact]
    public void DefaultsAreThePapersAndTheOfficialCodes()
    {
        using var detector = Create();
        Assert.Equal(700, detector.Epochs);
        Assert.Equal(1e-4, detector.LearningRate);
        Assert.Equal([560, 630], detector.Milestones);
        Assert.Empty(detector.TextureFiles);
        Assert.True(ModelRegistry.Trains("draem"));
        // The official widths: 128 for the reconstructive network (its first convolution: 3 → 128), 64 for the U-Net.
        var state = detector.Model.state_dict();
        Assert.Equal(new long[] { 128, 3, 3, 3 }, state["reconstructive.encoder.block1.0.weight"].shape);
        Assert.Equal(new long[] { 64, 6, 3, 3 }, state["discriminative.encoder_segment.block1.0.weight"].shape);
        Assert.Equal(new long[] { 2, 64, 3, 3 }, state["discriminative.decoder_segment.fin_out.0.weight"].shape);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(48)]
    [InlineData(100)]
    public void SizesThatAreNotMultiplesOf32AreRefused(int size)
    {
        var error = Assert.Throws<FarmException>(() => Create(size, settings: Tiny()));
        Assert.Equal("image_size", error.Field);
        Assert.Contains("32", error.Message);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void MapsHaveTheInputSizeAndTheScoreIsTheMaxOfThe21PixelAverage(int size)
    {
        using var detector = Create(size, settings: Tiny());
        using var train = TensorTestSupport.Randn(1, 2, 3, size, size);
        using var test = TensorTestSupport.Randn(2, 3, 3, size, size);
        detector.Fit([train]);

        var scored = detector.Predict(test);

        using var maps = tensor(scored.Maps.SelectMany(map => map).ToArray(), [3, 1, size, size]);
        Assert.True(maps.min().item<float>() >= 0 && maps.max().item<float>() <= 1, "the map is a probability");
        using var pooled = nn.functional.avg_pool2d(maps, 21, stride: 1, padding: 10);
        using var expected = pooled.amax([1, 2, 3]);
        Assert.Equal(expected.data<float>().ToArray(), scored.ImageScores);
    }

    [Fact]
    public void TheLearningRateFallsByFiveAfterEightyAndNinetyPercentOfTheEpochs()
    {
        using var detector = Create(settings: Tiny(epochs: 10));
        using var train = TensorTestSupport.Randn(3, 2, 3, 32, 32);
        var rates = new List<double>();

        detector.Train(_ => [train], _ =>
        {
            Assert.Equal(detector.CurrentLearningRate, detector.OptimizerLearningRate);
            rates.Add(detector.CurrentLearningRate);
            return true;
        });

        Assert.Equal([8, 9], detector.Milestones);
        Assert.Equal(7, rates.Count(rate => rate == 1e-4));
        Assert.Equal(1e-4 * 0.2, rates[7], 12);
        Assert.Equal(1e-4 * 0.04, rates[9], 12);
    }

    [Fact]
    public void TrainingWithItsSimulatedAnomaliesIsDeterministicForASeed()
    {
        using var train = TensorTestSupport.Randn(6, 4, 3, 32, 32);
        using var test = TensorTestSupport.Randn(7, 2, 3, 32, 32);

        (IReadOnlyList<double> Losses, float[] Scores) Run(int seed)
        {
            using var detector = Create(seed: seed, settings: Tiny(epochs: 3));
            detector.Fit([train[..2], train[2..]]);
            return (detector.EpochLosses, detector.Predict(test).ImageScores);
        }

        var (losses, scores) = Run(1);
        var again = Run(1);
        Assert.Equal(losses, again.Losses);
        Assert.Equal(scores, again.Scores);
        Assert.NotEqual(losses, Run(2).Losses);
    }

    [Fact]
    public void TheBackboneIsIgnoredAndSeedsChangeTheInitialisation()
    {
        using var resnet = Create(settings: Tiny());
        using var wide = Create(backbone: "wide_resnet50_2", settings: Tiny());
        using var other = Create(seed: 2, settings: Tiny());
        const string key = "discriminative.encoder_segment.block1.0.weight";
        Assert.True(TensorTestSupport.Same(resnet.Model.state_dict()[key], wide.Model.state_dict()[key]));
        Assert.False(TensorTestSupport.Same(resnet.Model.state_dict()[key], other.Model.state_dict()[key]));
    }

    [Fact]
    public void TheLossIsL2PlusSsimLossPlusFocalLoss()
    {
        using var detector = Create(settings: Tiny());
        using var scope = NewDisposeScope();
        using var generator = new Generator(4);
        var target = rand([2, 3, 32, 32], generator: generator);
        var augmented = rand([2, 3, 32, 32], generator: generator);
        var mask = (rand([2, 1, 32, 32], generator: generator) > 0.7).to_type(ScalarType.Float32);
        detector.Model.train();

        var loss = detector.TrainingLoss(target, augmented, mask).item<float>();

        // The same pieces by hand (batch norm in training mode gives the same outputs for the same inputs).
        var reconstruction = detector.Model.Reconstruct(augmented);
        var probabilities = softmax(detector.Model.Segment(reconstruction, augmented), 1);
        var expected = nn.functional.mse_loss(reconstruction, target).item<float>()
                       + 1 - Farm.Engine.Models.Components.Ssim.Mean(reconstruction, target).item<float>()
                       + Farm.Engine.Models.Components.FocalLoss.Compute(probabilities, mask).item<float>();
        Assert.Equal(expected, loss, 5);
    }

    [Fact]
    public void AMissingOrEmptyTexturesFolderIsAnErrorNamingIt()
    {
        using var folder = new TempFolder();
        var missing = Path.Combine(folder.Path, "dtd");
        var error = Assert.Throws<FarmException>(() => Create(settings: new(Tiny()) { ["textures"] = missing }));
        Assert.Equal("textures", error.Field);
        Assert.Contains(missing, error.Message);

        Directory.CreateDirectory(missing);
        File.WriteAllText(Path.Combine(missing, "readme.txt"), "no images here");
        error = Assert.Throws<FarmException>(() => Create(settings: new(Tiny()) { ["textures"] = missing }));
        Assert.Contains(missing, error.Message);
        Assert.Contains("no images", error.Message);
    }

    [Fact]
    public void ATexturesFolderSuppliesTheAnomalySources()
    {
        using var folder = new TempFolder();
        var textures = Directory.CreateDirectory(Path.Combine(folder.Path, "dtd", "banded")).FullName;
        var pixels = Enumerable.Range(0, 40 * 40).SelectMany(_ => new byte[] { 200, 30, 30 }).ToArray();
        ImageIo.WritePng(Path.Combine(textures, "red.png"), new RgbImage(40, 40, pixels));
        using var detector = Create(settings: new(Tiny()) { ["textures"] = Path.Combine(folder.Path, "dtd") });
        Assert.Single(detector.TextureFiles);

        var simulator = new AnomalySimulator(32, detector.TextureFiles);
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var source = simulator.SourceTexture(zeros(2, 3, 32, 32), generator);

        Assert.Equal(new long[] { 3, 32, 32 }, source.shape);
        Assert.Equal(200 / 255f, source[0].mean().item<float>(), 4);
        Assert.Equal(30 / 255f, source[1].mean().item<float>(), 4);
    }
}
