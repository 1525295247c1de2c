using Farm.Engine.Models;
using Farm.Engine.Models.Components;
using Farm.Engine.Models.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// A small model that really trains, for testing the training machinery (epochs, early stopping, checkpoints) apart from
/// any published model: it learns a mean image at 1/4 resolution by SGD with momentum on the squared error, from a
/// seeded random start. Its map is the squared distance to that mean per pixel (upsampled); its score the map's max.
/// Momentum makes validation quality rise and fall over epochs, which early stopping must handle.
/// </summary>
public sealed class MeanImageDetector : TrainedDetector
{
    public const string ModelName = "test-mean-image";

    private readonly MeanImageModule module;
    private readonly double learningRate;

    public MeanImageDetector(ModelOptions options)
        : this(options, new OptionReader(ModelName, options, [EpochsSetting, "lr"]))
    {
    }

    private MeanImageDetector(ModelOptions options, OptionReader reader) : base(ModelName, options, reader, defaultEpochs: 8)
    {
        learningRate = reader.Double("lr", 0.3, 0, 1e30);
        using var generator = SeedStream.Create(options.Seed, 0x6D65616E);
        module = new MeanImageModule(options.ImageSize / 4, generator);
    }

    /// <summary>Registers the model once per process (registrations are global).</summary>
    public static void EnsureRegistered()
    {
        lock (typeof(MeanImageDetector))
        {
            if (!ModelRegistry.Contains(ModelName))
            {
                ModelRegistry.Register(ModelName, options => new MeanImageDetector(options), trains: true);
            }
        }
    }

    /// <summary>How many times <see cref="TrainedDetector.Predict"/> scored a batch (early stopping scores validation after each epoch).</summary>
    public int PredictCalls { get; private set; }

    protected override nn.Module TrainedModule => module;

    protected override IReadOnlyList<optim.Optimizer> CreateOptimizers() =>
        [optim.SGD(module.parameters(), learningRate, momentum: 0.9)];

    protected override Tensor Loss(Tensor batch, int epoch) => module.SquaredDistance(batch).mean();

    protected override (Tensor Maps, Tensor Scores) Score(Tensor batch)
    {
        PredictCalls++;
        var small = module.SquaredDistance(batch).sum(1, keepdim: true);
        var maps = nn.functional.interpolate(small, [ImageSize, ImageSize], mode: InterpolationMode.Bilinear, align_corners: false);
        return (maps, maps.amax([1, 2, 3]));
    }

    private sealed class MeanImageModule : nn.Module
    {
        private readonly Parameter mean;
        private readonly AvgPool2d pool = nn.AvgPool2d(4);

        public MeanImageModule(int size, Generator generator) : base(nameof(MeanImageModule))
        {
            mean = new Parameter(randn([1, 3, size, size], generator: generator));
            RegisterComponents();
        }

        public Tensor SquaredDistance(Tensor batch) => (pool.call(batch) - mean).square();
    }
}
