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
public sealed class MeanImageDetector : ITrainableDetector
{
    public const string ModelName = "test-mean-image";

    private readonly MeanImageModule module;
    private readonly int imageSize;
    private readonly double learningRate;

    public MeanImageDetector(ModelOptions options)
    {
        imageSize = options.ImageSize;
        Epochs = options.Settings.TryGetValue("epochs", out var epochs) ? int.Parse(epochs) : 8;
        learningRate = options.Settings.TryGetValue("lr", out var lr) ? double.Parse(lr) : 0.3;
        using var generator = SeedStream.Create(options.Seed, 0x6D65616E);
        module = new MeanImageModule(imageSize / 4, generator);
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

    public string Name => ModelName;

    public int Epochs { get; }

    /// <summary>How many times <see cref="Predict"/> ran (early stopping scores validation after each epoch).</summary>
    public int PredictCalls { get; private set; }

    public void Fit(IEnumerable<Tensor> normalBatches)
    {
        var kept = normalBatches.Select(b => b.detach().clone()).ToList();
        try
        {
            Train(_ => kept);
        }
        finally
        {
            kept.ForEach(b => b.Dispose());
        }
    }

    public int Train(Func<int, IEnumerable<Tensor>> epochBatches, Func<int, bool>? afterEpoch = null)
    {
        using var optimizer = optim.SGD(module.parameters(), learningRate, momentum: 0.9);
        for (var epoch = 1; epoch <= Epochs; epoch++)
        {
            foreach (var batch in epochBatches(epoch))
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var loss = module.SquaredDistance(batch).mean();
                loss.backward();
                optimizer.step();
            }
            if (afterEpoch is not null && !afterEpoch(epoch))
            {
                return epoch;
            }
        }
        return Epochs;
    }

    public ScoredBatch Predict(Tensor batch)
    {
        PredictCalls++;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var small = module.SquaredDistance(batch).sum(1, keepdim: true);
        var maps = nn.functional.interpolate(small, [imageSize, imageSize], mode: InterpolationMode.Bilinear, align_corners: false);
        var scores = maps.amax([1, 2, 3]);
        return DetectorBatches.ToScoredBatch(maps, scores, imageSize);
    }

    public ModuleCheckpoint Checkpoint() => ModuleCheckpoint.Capture(module);

    public void Restore(ModuleCheckpoint checkpoint) => checkpoint.RestoreInto(module);

    public void Dispose() => module.Dispose();

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
