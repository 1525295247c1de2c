using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using Farm.Engine.Models.Training;
using static TorchSharp.torch;

namespace Farm.Engine.Models.SimpleNet;

/// <summary>
/// The "simplenet" model of <see cref="ModelRegistry"/>: SimpleNet (Liu et al., CVPR 2023). A frozen backbone (eval
/// mode; seeded random init or pretrained weights from <see cref="ModelOptions.WeightsPath"/>) gives layer2 and layer3
/// patch features of dimension D (<see cref="SimpleNetFeatures"/>); a trained feature adaptor maps them to the target
/// domain; Gaussian noise (σ = <c>noise_std</c>) added to adapted normal features makes synthetic anomalous features;
/// a discriminator scores each feature, trained with the truncated L1 loss
/// mean(max(0, 0.5 − D(normal))) + mean(max(0, 0.5 + D(noisy))) on one batch-norm batch of both. Anomaly map: minus the
/// discriminator's score per patch on layer2's grid, bilinear (align_corners false) to S × S, Gaussian blur σ = 4;
/// image score: the largest patch score (before upsampling, as the authors' code).
/// Defaults from the authors' code (run.sh and simplenet.py): D = 1536, σ = 0.015, margin 0.5, the adaptor trained by
/// AdamW (learning rate 1e-4, PyTorch's default weight decay 0.01), the discriminator by Adam (learning rate 2e-4,
/// weight decay 1e-5), no learning-rate schedule; 160 epochs (their 40 meta-epochs × 4 discriminator epochs, the count
/// Baitieva et al. use); the authors keep the meta-epoch with the best test AUROC, Farm evaluates the last epoch (or,
/// under early stopping, the best validation epoch). The noise comes from a private generator seeded from the run seed.
/// Settings: <c>epochs</c> (160), <c>embed_dim</c> (D, 1536), <c>noise_std</c> (0.015).
/// </summary>
public sealed class SimpleNetDetector : TrainedDetector
{
    public const string ModelName = "simplenet";

    public const int DefaultEpochs = 160;

    public const int DefaultDimension = 1536;

    public const double DefaultNoiseStd = 0.015;

    /// <summary>The truncated L1 loss's threshold (the authors' <c>dsc_margin</c>).</summary>
    public const double Margin = 0.5;

    public const double AdaptorLearningRate = 1e-4;

    /// <summary>PyTorch's AdamW default, which the authors' adaptor optimiser keeps.</summary>
    public const double AdaptorWeightDecay = 0.01;

    public const double DiscriminatorLearningRate = 2e-4;

    public const double DiscriminatorWeightDecay = 1e-5;

    public const int MinImageSize = 32;

    public static IReadOnlyList<string> SettingKeys { get; } = [EpochsSetting, "embed_dim", "noise_std"];

    private const ulong InitStream = 0x534E_4554_494E_4954UL;
    private const ulong NoiseStream = 0x534E_4554_4E4F_4953UL;

    private readonly FeatureBackbone backbone;
    private readonly SimpleNetModule module;
    private readonly GaussianBlur blur;
    private readonly Generator noise;

    public SimpleNetDetector(ModelOptions options)
        : this(options, new OptionReader(ModelName, options, SettingKeys))
    {
    }

    private SimpleNetDetector(ModelOptions options, OptionReader reader) : base(ModelName, options, reader, DefaultEpochs)
    {
        if (options.ImageSize < MinImageSize)
        {
            throw new FarmException($"simplenet needs an image size of at least {MinImageSize}, got {options.ImageSize}", field: "image_size");
        }

        Dimension = reader.Int("embed_dim", DefaultDimension, 1, 65536);
        NoiseStd = reader.Double("noise_std", DefaultNoiseStd, 0, 1e3);
        backbone = BackboneRegistry.Create(options.Backbone, options.Seed);
        try
        {
            if (options.WeightsPath is not null)
            {
                BackboneWeights.Load(backbone, options.WeightsPath);
            }

            foreach (var parameter in backbone.parameters())
            {
                parameter.requires_grad = false;
            }

            FeatureSize = backbone.LayerSize(2, options.ImageSize);
            using var generator = SeedStream.Create(options.Seed, InitStream);
            module = new SimpleNetModule(Dimension, generator);
            blur = new GaussianBlur(4.0);
            noise = NoiseGenerator(options.Seed);
            PlaceOnDevice(backbone, module, blur);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>The patch feature dimension D.</summary>
    public int Dimension { get; }

    public double NoiseStd { get; }

    /// <summary>Side of layer2's grid, on which patches live (S/8 for ResNets).</summary>
    public int FeatureSize { get; }

    /// <summary>The frozen backbone (owned by this detector).</summary>
    public FeatureBackbone Backbone => backbone;

    /// <summary>The trained adaptor and discriminator (owned by this detector).</summary>
    public SimpleNetModule Module => module;

    /// <summary>The paper's optimisers: AdamW for the adaptor, Adam with weight decay for the discriminator.</summary>
    public static IReadOnlyList<optim.Optimizer> CreateOptimizers(SimpleNetModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return
        [
            optim.AdamW(module.AdaptorParameters, AdaptorLearningRate, weight_decay: AdaptorWeightDecay),
            optim.Adam(module.DiscriminatorParameters, DiscriminatorLearningRate, weight_decay: DiscriminatorWeightDecay),
        ];
    }

    /// <summary>The seeded noise stream of a run (independent of the initialisation's and of the global generator).</summary>
    internal static Generator NoiseGenerator(long seed) => SeedStream.Create(seed, NoiseStream);

    /// <summary>Gaussian noise N(0, std²) of the given shape from <paramref name="generator"/>.</summary>
    internal static Tensor DrawNoise(Generator generator, long[] shape, double std) => randn(shape, generator: generator).mul_(std);

    /// <summary>
    /// The truncated L1 loss of one batch of patch features [N, D] and their noise [N, D]: the discriminator sees the
    /// adapted features and the adapted features plus noise in one batch.
    /// </summary>
    public static Tensor Loss(SimpleNetModule module, Tensor features, Tensor noise)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = NewDisposeScope();
        var normal = module.Adapt(features);
        var scores = module.Discriminate(cat([normal, normal + noise], 0));
        var count = features.shape[0];
        var normalLoss = (Margin - scores[..(int)count]).clamp_min(0).mean();
        var anomalousLoss = (scores[(int)count..] + Margin).clamp_min(0).mean();
        return (normalLoss + anomalousLoss).MoveToOuterDisposeScope();
    }

    /// <summary>Patch scores [B, 1, h, w] (minus the discriminator's score) of a batch, in eval mode.</summary>
    public static Tensor PatchScores(SimpleNetModule module, Tensor features, int count, int gridSize)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = NewDisposeScope();
        return (-module.forward(features)).reshape(count, 1, gridSize, gridSize).MoveToOuterDisposeScope();
    }

    protected override nn.Module TrainedModule => module;

    protected override IReadOnlyList<optim.Optimizer> CreateOptimizers() => CreateOptimizers(module);

    protected override Tensor Loss(Tensor batch, int epoch)
    {
        var features = SimpleNetFeatures.Extract(backbone, batch, Dimension);
        // Drawn on the CPU (the seeded generator's device), so a seed gives the same noise on every device.
        return Loss(module, features, DrawNoise(noise, features.shape, NoiseStd).to(features.device));
    }

    protected override (Tensor Maps, Tensor Scores) Score(Tensor batch)
    {
        var features = SimpleNetFeatures.Extract(backbone, batch, Dimension);
        var patches = PatchScores(module, features, (int)batch.shape[0], FeatureSize);
        var upsampled = nn.functional.interpolate(patches, [ImageSize, ImageSize], mode: InterpolationMode.Bilinear, align_corners: false);
        return (blur.forward(upsampled), patches.amax([1, 2, 3]));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            backbone.Dispose();
            blur.Dispose();
            noise.Dispose();
        }
    }
}
