using Farm.Engine.Models.Components;
using Farm.Engine.Models.Training;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Vae;

/// <summary>
/// The "vae" model of <see cref="ModelRegistry"/>: the attribution-map family of the Amazon product-agnostic benchmark,
/// a convolutional VAE trained on normal images whose anomaly map is its gradient-based attention (Liu et al., CVPR
/// 2020; architecture in <see cref="VaeModel"/>). Trained from a seeded random initialisation: it has no pretrained
/// backbone, so the cell's <c>backbone</c> and weights file are ignored. Reparameterisation noise comes from the
/// detector's own seeded stream (restarted with each training run); scoring uses z = μ, so scores are deterministic.
/// Image score: the maximum of the map.
/// Settings: <c>epochs</c> (default 100, the official training script's), <c>lr</c> (Adam learning rate, default
/// 1e-3, the official script's), <c>latent_size</c> (default 32, the paper's and the official code's),
/// <c>hidden_size</c> (default 1024, the official fully connected width).
/// </summary>
public sealed class VaeDetector : TrainedDetector
{
    public const string ModelName = "vae";

    public const int DefaultEpochs = 100;

    public const double DefaultLearningRate = 1e-3;

    public const int DefaultLatentSize = 32;

    public const int DefaultHiddenSize = 1024;

    private const ulong InitialisationTag = 0x5641_4500_0000_0001UL;
    private const ulong NoiseTag = 0x5641_4500_0000_0002UL;

    public static IReadOnlyList<string> SettingKeys { get; } = [EpochsSetting, "lr", "latent_size", "hidden_size"];

    private readonly double learningRate;
    private Generator? noise;

    public VaeDetector(ModelOptions options)
        : this(options, new OptionReader(ModelName, options, SettingKeys))
    {
    }

    private VaeDetector(ModelOptions options, OptionReader reader) : base(ModelName, options, reader, DefaultEpochs)
    {
        if (options.ImageSize < VaeModel.MinImageSize)
        {
            throw new FarmException($"vae needs an image size of at least {VaeModel.MinImageSize}, got {options.ImageSize}", field: "image_size");
        }

        learningRate = reader.Double("lr", DefaultLearningRate, 1e-12, 10);
        var latent = reader.Int("latent_size", DefaultLatentSize, 1, 4096);
        var hidden = reader.Int("hidden_size", DefaultHiddenSize, 1, 65536);
        using var generator = SeedStream.Create(options.Seed, InitialisationTag);
        Model = new VaeModel(options.ImageSize, latent, hidden, generator);
        PlaceOnDevice(Model);
    }

    /// <summary>The trained module (e.g. to save its state dict). Owned by this detector.</summary>
    public VaeModel Model { get; }

    public double LearningRate => learningRate;

    /// <summary>Test hook: when set, supplies ε [B, n] for each training batch instead of the seeded stream.</summary>
    internal Func<long, Tensor>? NoiseOverride { get; set; }

    protected override nn.Module TrainedModule => Model;

    protected override IReadOnlyList<optim.Optimizer> CreateOptimizers()
    {
        // Each training run draws the same noise sequence for a seed, however often the detector was trained before.
        noise?.Dispose();
        noise = SeedStream.Create(Seed, NoiseTag);
        return [optim.Adam(Model.parameters(), learningRate)];
    }

    protected override Tensor Loss(Tensor batch, int epoch)
    {
        var count = batch.shape[0];
        // Drawn on the CPU (the seeded generator's device), so a seed gives the same noise on every device.
        var epsilon = (NoiseOverride?.Invoke(count) ?? randn([count, Model.LatentSize], generator: noise)).to(batch.device);
        // The base reads the loss as float32 (the parity test runs the module in float64; gradients stay float64).
        return Model.Loss(batch, epsilon).to_type(ScalarType.Float32);
    }

    protected override (Tensor Maps, Tensor Scores) Score(Tensor batch)
    {
        var maps = Model.Attention(batch).to_type(ScalarType.Float32);
        return (maps, maps.amax([1, 2, 3]));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            noise?.Dispose();
        }

        base.Dispose(disposing);
    }
}
