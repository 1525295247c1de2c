using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using Farm.Engine.Models.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Farm.Engine.Models.FastFlow;

/// <summary>
/// The "fastflow" model of <see cref="ModelRegistry"/> (Yu et al., 2021, "FastFlow: Unsupervised Anomaly Detection
/// and Localization via 2D Normalizing Flows"; anomalib's <c>fastflow</c>): a frozen backbone (seeded random init, or
/// pretrained weights from <see cref="ModelOptions.WeightsPath"/>) gives layer1, layer2 and layer3 features (anomalib's
/// and the paper's choice for both ResNet-18 and Wide-ResNet-50-2); <see cref="FastFlowModel"/> normalises and flows
/// each level; Adam trains the norms and flows on the negative log-likelihood. Map: the negated likelihood averaged
/// over levels (<see cref="FastFlowModel.AnomalyMap"/>); image score: its maximum.
/// Settings: <c>epochs</c> (default 500, the paper's and the official code's), <c>flow_steps</c> (8, the paper's for
/// both ResNets), <c>conv3x3_only</c> (auto, true or false; auto = true for resnet18 and false for wide_resnet50_2,
/// the official configurations that anomalib's config lists too), <c>hidden_ratio</c> (1.0), <c>clamp</c> (2.0),
/// <c>lr</c> (1e-3) and <c>weight_decay</c> (1e-5) of Adam (β = 0.9, 0.999, ε = 1e-8, torch's L2 form).
/// </summary>
public sealed class FastFlowDetector : TrainedDetector
{
    public const string ModelName = "fastflow";

    public const int DefaultEpochs = 500;

    public const int MinImageSize = 32;

    /// <summary>The backbone layers FastFlow flows (1-based).</summary>
    public static IReadOnlyList<int> Layers { get; } = [1, 2, 3];

    public static IReadOnlyList<string> SettingKeys { get; } =
        [EpochsSetting, "flow_steps", "conv3x3_only", "hidden_ratio", "clamp", "lr", "weight_decay"];

    private readonly FeatureBackbone backbone;
    private readonly FastFlowModel model;
    private readonly double learningRate;
    private readonly double weightDecay;
    private ScalarType computeType = ScalarType.Float32;

    public FastFlowDetector(ModelOptions options) : this(options, new OptionReader(ModelName, options, SettingKeys))
    {
    }

    private FastFlowDetector(ModelOptions options, OptionReader reader) : base(ModelName, options, reader, DefaultEpochs)
    {
        if (options.ImageSize < MinImageSize)
        {
            throw new FarmException($"{ModelName} needs an image size of at least {MinImageSize}, got {options.ImageSize}", field: "image_size");
        }

        var flowSteps = reader.Int("flow_steps", 8, 1, 64);
        var conv3x3Only = reader.Choice("conv3x3_only", "auto", ["auto", "true", "false"]);
        var hiddenRatio = reader.Double("hidden_ratio", 1.0, 1e-3, 16);
        var clamp = reader.Double("clamp", 2.0, 1e-3, 100);
        learningRate = reader.Double("lr", 1e-3, 0, 10);
        weightDecay = reader.Double("weight_decay", 1e-5, 0, 10);

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

            var levels = Layers.Select(layer => (backbone.LayerChannels[layer - 1], backbone.LayerSize(layer, options.ImageSize))).ToList();
            var onlyThreeByThree = conv3x3Only == "auto" ? DefaultConv3x3Only(backbone.Architecture) : conv3x3Only == "true";
            // Its own stream, so that the flows' initialisation does not depend on how the backbone used the seed.
            using var generator = SeedStream.Create(options.Seed, 0x4641_5354_464C_4F57UL);
            model = new FastFlowModel(levels, flowSteps, onlyThreeByThree, hiddenRatio, clamp, generator);
            PlaceOnDevice(backbone, model);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>The trained norms and flows (e.g. to save their state dict). Owned by this detector.</summary>
    public FastFlowModel Model => model;

    /// <summary>The frozen feature extractor. Owned by this detector.</summary>
    public FeatureBackbone Backbone => backbone;

    /// <summary>
    /// The official configurations (gathierry/FastFlow's configs, listed in anomalib's fastflow.yaml): ResNet-18 uses
    /// 3×3 subnets throughout, Wide-ResNet-50-2 alternates 3×3 and 1×1.
    /// </summary>
    public static bool DefaultConv3x3Only(string architecture) =>
        !string.Equals(architecture, "wide_resnet50_2", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Runs the backbone and the flows in float64 from now on (inputs are converted on the way in, maps and scores
    /// returned in float32): the one-step parity test's precision, where Adam's first step (≈ −lr · sign(g)) is not
    /// at the mercy of float32 rounding for gradients near zero. Call before training.
    /// </summary>
    internal void UseFloat64()
    {
        backbone.to(ScalarType.Float64);
        model.to(ScalarType.Float64);
        computeType = ScalarType.Float64;
    }

    protected override nn.Module TrainedModule => model;

    protected override IReadOnlyList<optim.Optimizer> CreateOptimizers() =>
        // TorchSharp's optim.Adam defaults to β₂ = 0.99; torch's (and the paper's) is 0.999.
        [optim.Adam(model.parameters(), learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: weightDecay)];

    protected override Tensor Loss(Tensor batch, int epoch)
    {
        var (latents, logDeterminants) = model.Forward(Features(batch));
        var loss = FastFlowModel.Loss(latents, logDeterminants);
        // The training loop reads a float32 loss; the cast's gradient is exactly 1, so float64 gradients stay float64.
        return loss.dtype == ScalarType.Float32 ? loss : loss.to_type(ScalarType.Float32);
    }

    protected override (Tensor Maps, Tensor Scores) Score(Tensor batch)
    {
        var (latents, _) = model.Forward(Features(batch));
        var maps = FastFlowModel.AnomalyMap(latents, ImageSize).to_type(ScalarType.Float32);
        return (maps, maps.amax([1, 2, 3]));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            backbone.Dispose();
        }
    }

    private Tensor[] Features(Tensor batch)
    {
        using var noGrad = no_grad();
        return backbone.Features(computeType == ScalarType.Float32 ? batch : batch.to_type(computeType), Layers);
    }
}
