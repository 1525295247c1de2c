using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using Farm.Engine.Models.Training;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Cflow;

/// <summary>
/// The "cflow" model of <see cref="ModelRegistry"/> (Gudovskiy et al., 2022, "CFLOW-AD: Real-Time Unsupervised Anomaly
/// Detection with Localization via Conditional Normalizing Flows"; anomalib's <c>cflow</c>): a frozen encoder (seeded
/// random init, or pretrained weights from <see cref="ModelOptions.WeightsPath"/>; wide_resnet50_2 in the paper)
/// gives the <c>layers</c>' features; <see cref="CflowModel"/> holds one conditional flow decoder per layer. Training,
/// as anomalib and the official code do it: per image batch and layer, the fibers (feature vectors of every position
/// of every image) in a seeded random order, cut into fiber batches of <c>fiber_batch_size</c> (the last one takes the
/// remainder), and one Adam step per fiber batch on the mean of −log σ(log-likelihood per dimension). Each decoder has
/// its own Adam, so a step moves only the decoder whose fibers it saw (what one Adam over all decoders does when
/// unused gradients are None, torch's default).
/// Map and score: <see cref="CflowModel.AnomalyMap"/>; image score = map maximum.
/// Settings: <c>epochs</c> (default 50, anomalib's), <c>layers</c> (layer2,layer3,layer4), <c>fiber_batch_size</c>
/// (64), <c>condition_vector</c> (128), <c>coupling_blocks</c> (8), <c>clamp</c> (1.9), <c>lr</c> (1e-4; Adam
/// β = 0.9, 0.999, ε = 1e-8, no weight decay).
/// </summary>
public sealed class CflowDetector : TrainedDetector
{
    public const string ModelName = "cflow";

    public const int DefaultEpochs = 50;

    public const int MinImageSize = 32;

    public static IReadOnlyList<int> DefaultLayers { get; } = [2, 3, 4];

    public static IReadOnlyList<string> SettingKeys { get; } =
        [EpochsSetting, "layers", "fiber_batch_size", "condition_vector", "coupling_blocks", "clamp", "lr"];

    private const ulong FiberStream = 0x4346_4C4F_5746_4942UL;

    private readonly FeatureBackbone backbone;
    private readonly CflowModel model;
    private readonly IReadOnlyList<int> layers;
    private readonly int fiberBatchSize;
    private readonly double learningRate;
    private readonly double[] epochMaxima;
    private Generator? fiberOrder;
    private optim.Optimizer[] decoderOptimizers = [];

    public CflowDetector(ModelOptions options) : this(options, new OptionReader(ModelName, options, SettingKeys))
    {
    }

    private CflowDetector(ModelOptions options, OptionReader reader) : base(ModelName, options, reader, DefaultEpochs)
    {
        if (options.ImageSize < MinImageSize)
        {
            throw new FarmException($"{ModelName} needs an image size of at least {MinImageSize}, got {options.ImageSize}", field: "image_size");
        }

        layers = reader.Layers("layers", DefaultLayers);
        fiberBatchSize = reader.Int("fiber_batch_size", 64, 1, 1 << 20);
        var conditionVector = reader.Int("condition_vector", 128, 4, 4096);
        if (conditionVector % 4 != 0)
        {
            throw new FarmException($"{ModelName}: the condition vector length must be a multiple of 4, got {conditionVector}", field: "condition_vector");
        }

        var couplingBlocks = reader.Int("coupling_blocks", 8, 1, 64);
        var clamp = reader.Double("clamp", 1.9, 1e-3, 100);
        learningRate = reader.Double("lr", 1e-4, 0, 10);
        epochMaxima = layers.Select(_ => double.NegativeInfinity).ToArray();

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

            using var generator = SeedStream.Create(options.Seed, 0x4346_4C4F_5744_4543UL);
            model = new CflowModel(layers.Select(layer => backbone.LayerChannels[layer - 1]).ToList(), conditionVector,
                couplingBlocks, clamp, generator);
            PlaceOnDevice(backbone, model);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>The trained decoders (e.g. to save their state dict). Owned by this detector.</summary>
    public CflowModel Model => model;

    /// <summary>The frozen encoder. Owned by this detector.</summary>
    public FeatureBackbone Backbone => backbone;

    /// <summary>The encoder layers the decoders model (1-based).</summary>
    public IReadOnlyList<int> Layers => layers;

    /// <summary>Optimiser steps taken so far (one per fiber batch).</summary>
    public long FiberSteps { get; private set; }

    protected override nn.Module TrainedModule => model;

    /// <summary>
    /// One Adam per decoder (the base loop owns and disposes them). Training restarts the seeded fiber order, so that a
    /// run depends only on the initial state and the batches.
    /// </summary>
    protected override IReadOnlyList<optim.Optimizer> CreateOptimizers()
    {
        fiberOrder?.Dispose();
        fiberOrder = SeedStream.Create(Seed, FiberStream);
        decoderOptimizers = layers.Select((_, level) => (optim.Optimizer)optim.Adam(model.Decoder(level).parameters(),
            learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8)).ToArray();
        return decoderOptimizers;
    }

    /// <summary>
    /// Takes the fiber-batch steps itself (many per image batch), leaving every gradient None so that the base loop's
    /// own step moves nothing; returns the mean fiber loss as a leaf for the loop's bookkeeping.
    /// </summary>
    protected override Tensor Loss(Tensor batch, int epoch)
    {
        var features = Features(batch);
        var total = 0.0;
        var count = 0L;
        for (var level = 0; level < layers.Count; level++)
        {
            var decoderParameters = model.Decoder(level).parameters().ToList();
            var (fibers, conditions) = model.Fibers(features[level]);
            var fiberCount = fibers.shape[0];
            // Drawn on the CPU (the seeded generator's device), so the order is the same on every device.
            using var drawn = randperm(fiberCount, generator: fiberOrder);
            using var order = drawn.to(fibers.device);
            // anomalib refuses fewer fibers than one batch; a single smaller batch keeps tiny inputs trainable.
            var steps = Math.Max(1, fiberCount / fiberBatchSize);
            for (var step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                var start = step * fiberBatchSize;
                var length = step == steps - 1 ? fiberCount - start : fiberBatchSize;
                var index = order.narrow(0, start, length);
                var logLikelihood = model.LogLikelihoodPerDimension(level, fibers.index_select(0, index), conditions.index_select(0, index));
                var losses = -nn.functional.logsigmoid(logLikelihood);
                decoderParameters.ForEach(parameter => parameter.grad = null);
                losses.mean().backward();
                decoderOptimizers[level].step();
                decoderParameters.ForEach(parameter => parameter.grad = null);
                FiberSteps++;
                using (no_grad())
                {
                    total += losses.sum().to_type(ScalarType.Float64).item<double>();
                    epochMaxima[level] = Math.Max(epochMaxima[level], logLikelihood.max().to_type(ScalarType.Float64).item<double>());
                }

                count += length;
            }
        }

        return tensor((float)(total / count), requires_grad: true);
    }

    protected override void OnEpochEnd(int epoch)
    {
        // A diverged epoch has already failed the loop (its mean loss is not finite); keep the maxima finite regardless.
        if (epochMaxima.All(double.IsFinite))
        {
            model.SetLogLikelihoodMax(epochMaxima);
        }

        Array.Fill(epochMaxima, double.NegativeInfinity);
    }

    protected override (Tensor Maps, Tensor Scores) Score(Tensor batch)
    {
        var maps = model.AnomalyMap(Features(batch), ImageSize);
        return (maps, maps.amax([1, 2, 3]));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            backbone.Dispose();
            fiberOrder?.Dispose();
        }
    }

    private Tensor[] Features(Tensor batch)
    {
        using var noGrad = no_grad();
        return backbone.Features(batch, layers);
    }
}
