using Farm.Engine.Models;
using Farm.Engine.Models.Padim;
using Farm.Engine.Tests.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class PadimDetectorTests
{
    private static ModelOptions Options(int size = 32, int seed = 1, params (string Key, string Value)[] settings) =>
        new(size, seed, Options: settings.ToDictionary(pair => pair.Key, pair => pair.Value));

    [Fact]
    public void IsRegisteredAsPadim()
    {
        Assert.Contains("padim", ModelRegistry.Names);
        using var detector = ModelRegistry.Create("PaDiM", Options());
        Assert.Equal("padim", detector.Name);
    }

    [Fact]
    public void ChannelSubsetDefaultsSeedingAndAllChannels()
    {
        using var byDefault = new PadimDetector(Options());
        Assert.Equal(100, byDefault.Model.Channels);
        Assert.Equal(448, byDefault.Model.TotalChannels);
        var subset = byDefault.Model.ChannelIndex.data<long>().ToArray();
        Assert.Equal(subset.Order(), subset);
        Assert.Equal(100, subset.Distinct().Count());
        Assert.Equal(subset, PadimDetector.ChannelSubset(448, 100, seed: 1));
        Assert.NotEqual(subset, PadimDetector.ChannelSubset(448, 100, seed: 2));

        using var all = new PadimDetector(Options(settings: ("n_features", "448")));
        Assert.Equal(Enumerable.Range(0, 448).Select(i => (long)i), all.Model.ChannelIndex.data<long>().ToArray());
        Assert.Equal(550, PadimDetector.DefaultFeatureCount("wide_resnet50_2", 1792));
    }

    [Theory]
    [InlineData("n_features", "0")]
    [InlineData("n_features", "449")]
    [InlineData("n_features", "many")]
    [InlineData("covariance_eps", "-1")]
    [InlineData("accumulator", "float16")]
    [InlineData("inverse", "float16")]
    [InlineData("n_feature", "10")]
    public void BadSettingsNameTheField(string key, string value)
    {
        var error = Assert.Throws<FarmException>(() => new PadimDetector(Options(settings: (key, value))));
        Assert.Equal(key, error.Field);
    }

    [Fact]
    public void TooSmallImagesAndUnknownBackbonesAreUserErrors()
    {
        Assert.Equal("image_size", Assert.Throws<FarmException>(() => new PadimDetector(Options(size: 16))).Field);
        var error = Assert.Throws<FarmException>(() => new PadimDetector(Options() with { Backbone = "vgg" }));
        Assert.Contains("vgg", error.Message);
    }

    [Fact]
    public void PredictBeforeFitAndFitOnOneImageFail()
    {
        using var detector = new PadimDetector(Options());
        using var batch = TensorTestSupport.Randn(1, 1, 3, 32, 32);
        Assert.Throws<InvalidOperationException>(() => detector.Predict(batch));
        Assert.Throws<FarmException>(() => detector.Fit([batch]));
        using var wrongSize = zeros(1, 3, 64, 64);
        Assert.Throws<ArgumentException>(() => detector.Predict(wrongSize));
    }

    [Fact]
    public void ScoresAreTheMaximaOfTheMapsAndInputsSurvive()
    {
        using var detector = new PadimDetector(Options(settings: ("n_features", "40")));
        using var train = TensorTestSupport.Randn(2, 6, 3, 32, 32);
        using var test = TensorTestSupport.Randn(3, 3, 3, 32, 32);
        detector.Fit([train]);
        var scored = detector.Predict(test);
        Assert.Equal((32, 32), (scored.Height, scored.Width));
        Assert.Equal(3, scored.Maps.Length);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(32 * 32, scored.Maps[i].Length);
            Assert.Equal(scored.Maps[i].Max(), scored.ImageScores[i]);
            Assert.All(scored.Maps[i], value => Assert.True(value >= 0 && float.IsFinite(value)));
        }

        // The caller's tensors are still usable.
        Assert.Equal(6, train.shape[0]);
        Assert.True(float.IsFinite(test.sum().item<float>()));
    }

    [Fact]
    public void Float32AccumulatorStaysCloseToFloat64()
    {
        using var train = TensorTestSupport.Randn(4, 12, 3, 32, 32);
        using var test = TensorTestSupport.Randn(5, 2, 3, 32, 32);
        using var wide = new PadimDetector(Options(settings: ("n_features", "60")));
        using var narrow = new PadimDetector(Options(settings: [("n_features", "60"), ("accumulator", "float32")]));
        wide.Fit([train[..5], train[5..]]);
        narrow.Fit([train[..5], train[5..]]);
        var a = wide.Predict(test).ImageScores;
        var b = narrow.Predict(test).ImageScores;
        for (var i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-3 * a[i], $"image {i}: float64 {a[i]} vs float32 {b[i]}");
        }
    }

    [Fact]
    public void Float32InverseStaysCloseToFloat64AndIsNotTheDefault()
    {
        using var train = TensorTestSupport.Randn(6, 12, 3, 32, 32);
        using var test = TensorTestSupport.Randn(7, 2, 3, 32, 32);
        using var wide = new PadimDetector(Options(settings: ("n_features", "60")));
        using var narrow = new PadimDetector(Options(settings: [("n_features", "60"), ("accumulator", "float32"), ("inverse", "float32")]));
        Assert.Equal(ScalarType.Float64, wide.InverseType);
        Assert.Equal(ScalarType.Float32, narrow.InverseType);
        wide.Fit([train[..5], train[5..]]);
        narrow.Fit([train[..5], train[5..]]);
        var a = wide.Predict(test);
        var b = narrow.Predict(test);
        for (var i = 0; i < a.ImageScores.Length; i++)
        {
            Assert.True(Math.Abs(a.ImageScores[i] - b.ImageScores[i]) <= 1e-3 * a.ImageScores[i],
                $"image {i}: float64 {a.ImageScores[i]} vs float32 {b.ImageScores[i]}");
        }

        // Different arithmetic, not the same code path twice: the maps differ in the last digits.
        Assert.False(a.Maps.Zip(b.Maps).All(pair => pair.First.SequenceEqual(pair.Second)), "float32 statistics gave bit-identical maps");
    }

    [Fact]
    public void AutoAccumulatorIsFloat64UnlessThatWouldBeHuge()
    {
        using var detector = new PadimDetector(Options());
        Assert.Equal(ScalarType.Float64, detector.AccumulatorType);
        // resnet18, 100 channels, 256 px: 4096 · 100² · 8 B = 328 MB.
        Assert.Equal(ScalarType.Float64, PadimDetector.AccumulatorFor("auto", 64 * 64, 100));
        // wide_resnet50_2, 550 channels, 256 px: 4096 · 550² · 8 B = 9.9 GB.
        Assert.Equal(ScalarType.Float32, PadimDetector.AccumulatorFor("auto", 64 * 64, 550));
        Assert.Equal(ScalarType.Float64, PadimDetector.AccumulatorFor("float64", 64 * 64, 550));
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void SummingIntoTheInverseBufferGivesTheSameStatisticsAsSeparateStorage(ScalarType inverseType)
    {
        const int channels = 6, positions = 5;
        using var generator = new Generator(7);
        var batches = Enumerable.Range(0, 3).Select(_ => randn([4, channels, positions], generator: generator).mul_(3).add_(10)).ToList();
        using var separateMean = zeros(channels, positions);
        using var separateInverse = zeros(positions, channels, channels);
        using (var separate = new GaussianAccumulator(channels, positions, ScalarType.Float32))
        {
            batches.ForEach(separate.Add);
            separate.FinishInto(separateMean, separateInverse, 0.01, inverseType);
        }

        using var sharedMean = zeros(channels, positions);
        // Stale values in the buffer (a previous fit) must not leak into the sums.
        using var sharedInverse = full([positions, channels, channels], 5f);
        using (var shared = new GaussianAccumulator(channels, positions, ScalarType.Float32, productStorage: sharedInverse))
        {
            batches.ForEach(shared.Add);
            shared.FinishInto(sharedMean, sharedInverse, 0.01, inverseType);
        }

        Assert.True(sharedMean.equal(separateMean).all().item<bool>());
        Assert.True(sharedInverse.equal(separateInverse).all().item<bool>());
        batches.ForEach(batch => batch.Dispose());
    }

    [Fact]
    public void ProductStorageOfTheWrongShapeOrTypeIsRefused()
    {
        using var wrongShape = zeros(5, 6, 7);
        using var wrongType = zeros([5, 6, 6], ScalarType.Float64);
        Assert.Throws<ArgumentException>(() => new GaussianAccumulator(6, 5, ScalarType.Float32, productStorage: wrongShape));
        Assert.Throws<ArgumentException>(() => new GaussianAccumulator(6, 5, ScalarType.Float32, productStorage: wrongType));
    }

    /// <summary>
    /// The embedding against its definition (anomalib's): all layers nearest-upsampled to layer1's grid, concatenated,
    /// then the channels selected. Covers the broadcast copy (power-of-two grids), interpolate (72 px: layer3's grid 5
    /// does not divide 18) and channel indices that interleave the layers (index_copy).
    /// </summary>
    [Theory]
    [InlineData(64, new long[] { 3, 70, 64, 130, 200, 447, 191, 192 })]
    [InlineData(64, new long[] { 300, 5, 64, 200, 100, 447, 70 })]
    [InlineData(72, new long[] { 0, 1, 63, 64, 200, 300, 447 })]
    [InlineData(72, new long[] { 447, 0, 200, 1 })]
    public void EmbeddingEqualsUpsampleConcatenateThenSelect(int size, long[] channelIndex)
    {
        using var model = new PadimModel(Farm.Engine.Backbones.BackboneRegistry.Create("resnet18", 3), channelIndex, size);
        using var generator = new Generator(11);
        using var batch = randn([2, 3, size, size], generator: generator);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var features = model.Backbone.Features(batch, [1, 2, 3]);
        var grid = new[] { features[0].shape[2], features[0].shape[3] };
        var expected = cat(features.Select((map, layer) => layer == 0 ? map : nn.functional.interpolate(map, grid, mode: InterpolationMode.Nearest)).ToArray(), 1)
            .index_select(1, tensor(channelIndex));
        var actual = model.Embed(batch);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.equal(expected).all().item<bool>());
    }
}
