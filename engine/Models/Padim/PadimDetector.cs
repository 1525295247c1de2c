using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using TorchSharp;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Padim;

/// <summary>
/// The "padim" model of <see cref="ModelRegistry"/>: builds the backbone (seeded random init, or pretrained weights
/// from <see cref="ModelOptions.WeightsPath"/>), picks the channel subset, streams the Gaussian fit and scores batches.
/// Settings: <c>layers</c> (default layer1,layer2,layer3; the first sets the grid), <c>n_features</c> (channel subset
/// size; default 100 for resnet18, 550 for wide_resnet50_2, else all; capped at the layers' channels),
/// <c>covariance_eps</c> (default 0.01), <c>accumulator</c> (auto, float64 or float32: the dtype of the streamed
/// sums; auto picks float64 unless its P·C² products would exceed <see cref="AutoFloat64LimitBytes"/>, e.g.
/// wide_resnet50_2 with 550 channels at 256 px, where float32 halves the fit's extra memory), <c>inverse</c> (float64
/// or float32: the dtype the covariances are finished and inverted in; default float64, whose maps match a float64
/// reference to 1e-4; float32 is anomalib's arithmetic, faster (with float32 sums, ResNet-18 at 256 px fits in about
/// half the time) and within 1e-4 of the float64 reference in the parity tests too). <c>accumulator: float32</c> with
/// <c>inverse: float32</c> is the float32 PaDiM of anomalib.
/// </summary>
public sealed class PadimDetector : IAnomalyDetector
{
    public const string ModelName = "padim";

    public const int MinImageSize = 32;

    /// <summary>Largest float64 product accumulator "auto" allows (4 GiB).</summary>
    public const long AutoFloat64LimitBytes = 4L << 30;

    public static IReadOnlyList<string> SettingKeys { get; } = ["layers", "n_features", "covariance_eps", "accumulator", "inverse"];

    private readonly double covarianceEps;
    private readonly string accumulator;
    private readonly string inverse;
    private readonly Device device;

    public PadimDetector(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var reader = new OptionReader(ModelName, options, SettingKeys);
        if (options.ImageSize < MinImageSize)
        {
            throw new FarmException($"padim needs an image size of at least {MinImageSize}, got {options.ImageSize}", field: "image_size");
        }

        covarianceEps = reader.Double("covariance_eps", 0.01, 0, 1e6);
        accumulator = reader.Choice("accumulator", "auto", ["auto", "float64", "float32"]);
        inverse = reader.Choice("inverse", "float64", ["float64", "float32"]);

        var backbone = BackboneRegistry.Create(options.Backbone, options.Seed);
        try
        {
            if (options.WeightsPath is not null)
            {
                BackboneWeights.Load(backbone, options.WeightsPath);
            }

            var layers = reader.Layers("layers", PadimModel.DefaultLayers);
            var total = layers.Sum(layer => backbone.LayerChannels[layer - 1]);
            var count = reader.Int("n_features", DefaultFeatureCount(backbone.Architecture, total), 1, total);
            Model = new PadimModel(backbone, ChannelSubset(total, count, options.Seed), options.ImageSize, layers);
            device = options.TorchDevice;
            Model.to(device);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    public string Name => ModelName;

    /// <summary>The fitted module (e.g. to save its state dict). Owned by this detector.</summary>
    public PadimModel Model { get; }

    /// <summary>The dtype the fit accumulates in (see the class summary).</summary>
    public ScalarType AccumulatorType => AccumulatorFor(accumulator, Model.Positions, Model.Channels);

    /// <summary>The dtype the covariances are finished and inverted in (the <c>inverse</c> setting).</summary>
    public ScalarType InverseType => inverse == "float32" ? ScalarType.Float32 : ScalarType.Float64;

    /// <summary>Resolves the <c>accumulator</c> setting; depends only on the configuration, never on the machine.</summary>
    public static ScalarType AccumulatorFor(string setting, int positions, int channels) => setting switch
    {
        "float32" => ScalarType.Float32,
        "float64" => ScalarType.Float64,
        _ => (long)positions * channels * channels * 8 <= AutoFloat64LimitBytes ? ScalarType.Float64 : ScalarType.Float32,
    };

    /// <summary>anomalib's defaults: 100 of resnet18's 448 channels, 550 of wide_resnet50_2's 1792; else all.</summary>
    public static int DefaultFeatureCount(string architecture, int totalChannels) => architecture.ToLowerInvariant() switch
    {
        "resnet18" => Math.Min(100, totalChannels),
        "wide_resnet50_2" => Math.Min(550, totalChannels),
        _ => totalChannels,
    };

    /// <summary>
    /// A seeded random subset of <paramref name="count"/> of <paramref name="total"/> channels, ascending (the order
    /// does not change Mahalanobis distances); all channels in order when count equals total.
    /// </summary>
    public static long[] ChannelSubset(int total, int count, int seed)
    {
        if (count == total)
        {
            return Enumerable.Range(0, total).Select(index => (long)index).ToArray();
        }

        // Its own stream, so that the subset does not depend on how the backbone's initialisation used the seed.
        using var generator = SeedStream.Create(seed, 0x5041_4449_4D00_0001UL);
        using var permutation = randperm(total, generator: generator);
        return permutation.data<long>().Take(count).Order().ToArray();
    }

    /// <summary>Streams the batches once; see <see cref="GaussianAccumulator"/> for the numerics.</summary>
    public void Fit(IEnumerable<Tensor> normalBatches)
    {
        ArgumentNullException.ThrowIfNull(normalBatches);
        if (Model.IsFitted)
        {
            throw new InvalidOperationException("PaDiM is already fitted");
        }

        using var noGrad = no_grad();
        // float32 sums go straight into the inverse's buffer (see GaussianAccumulator): one P·C² tensor, not two.
        using var accumulator = new GaussianAccumulator(Model.Channels, Model.Positions, AccumulatorType, device,
            AccumulatorType == ScalarType.Float32 ? Model.InverseCovariance : null);
        Phases?.Restart();
        foreach (var batch in normalBatches)
        {
            DetectorBatches.RequireImageBatch(batch, ImageSize);
            using var scope = NewDisposeScope();
            var embedding = Model.Embed(DetectorBatches.OnDevice(batch, device));
            Phases?.Lap("fit: backbone + embedding");
            accumulator.Add(embedding.reshape(embedding.shape[0], Model.Channels, Model.Positions));
            Phases?.Lap("fit: accumulate sums");
        }

        accumulator.FinishInto(Model.Mean, Model.InverseCovariance, covarianceEps, InverseType);
        Phases?.Lap("fit: covariance + inverse");
        Model.MarkFitted();
    }

    public ScoredBatch Predict(Tensor batch)
    {
        DetectorBatches.RequireImageBatch(batch, ImageSize);
        using var noGrad = no_grad();
        Model.RequireFitted();
        using var scope = NewDisposeScope();
        Phases?.Restart();
        var embedding = Model.Embed(DetectorBatches.OnDevice(batch, device));
        Phases?.Lap("predict: backbone + embedding");
        var distances = Model.Mahalanobis(embedding);
        Phases?.Lap("predict: Mahalanobis");
        var maps = Model.UpsampleAndBlur(distances);
        Phases?.Lap("predict: upsample + blur");
        // PaDiM's image score is the maximum of its blurred map.
        var scored = DetectorBatches.ToScoredBatch(maps, maps.reshape(maps.shape[0], -1).amax([1]), ImageSize);
        Phases?.Lap("predict: scores + copy-out");
        return scored;
    }

    /// <summary>Set by the models benchmark's profile to time the phases; null otherwise.</summary>
    internal PhaseClock? Phases { get; set; }

    public void Dispose() => Model.Dispose();

    private int ImageSize => Model.ImageSize;
}
