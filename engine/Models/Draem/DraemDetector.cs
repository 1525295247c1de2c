using Farm.Engine.Imaging;
using Farm.Engine.Models.Components;
using Farm.Engine.Models.Training;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Draem;

/// <summary>
/// The "draem" model of <see cref="ModelRegistry"/>: DRÆM (Zavrtanik et al., ICCV 2021) as its official code trains and
/// tests it. Training: each batch (mapped back from ImageNet normalisation to [0, 1], DRAEM's input range) gets
/// simulated anomalies (<see cref="AnomalySimulator"/>); the reconstructive network restores the anomaly-free image
/// (L2 + SSIM loss against the target) and the discriminative network segments the simulated anomaly from the
/// concatenated reconstruction and input (focal loss on the softmax); one Adam optimiser over both at lr 1e-4, 700
/// epochs, the learning rate × 0.2 after ⌊0.8·epochs⌋ and ⌊0.9·epochs⌋ epochs (the official MultiStepLR; 560 and 630
/// for 700). Scoring: the anomaly map is the softmax's anomalous channel; the image score is the maximum of that map
/// average-pooled with a 21 × 21 window (stride 1, zero padding 10 counted, as the official test script).
/// No pretrained backbone: the cell's <c>backbone</c> and weights file are ignored.
/// Settings: <c>epochs</c> (700), <c>lr</c> (1e-4), <c>reconstructive_width</c> (128) and <c>discriminative_width</c>
/// (64) — the sub-networks' base channel widths — and <c>textures</c>: a folder of anomaly source images (searched
/// recursively: png, jpg, jpeg, bmp), e.g. DTD's <c>images</c> folder as in the paper; without it the sources are
/// procedural Perlin textures and crops of the training images. Image sizes must be multiples of 32.
/// </summary>
public sealed class DraemDetector : TrainedDetector
{
    public const string ModelName = "draem";

    public const int DefaultEpochs = 700;

    public const double DefaultLearningRate = 1e-4;

    public const int DefaultReconstructiveWidth = 128;

    public const int DefaultDiscriminativeWidth = 64;

    /// <summary>The official image score's averaging window.</summary>
    public const int ScoreWindow = 21;

    /// <summary>The learning-rate factor at each milestone.</summary>
    public const double LearningRateDecay = 0.2;

    private const ulong InitialisationTag = 0x4452_4145_4D00_0001UL;
    private const ulong AugmentationTag = 0x4452_4145_4D00_0002UL;

    public static IReadOnlyList<string> SettingKeys { get; } =
        [EpochsSetting, "lr", "reconstructive_width", "discriminative_width", "textures"];

    private readonly double learningRate;
    private readonly AnomalySimulator simulator;
    private Generator? augmentation;
    private optim.Optimizer? optimizer;
    private double currentLearningRate;

    public DraemDetector(ModelOptions options)
        : this(options, new OptionReader(ModelName, options, SettingKeys))
    {
    }

    private DraemDetector(ModelOptions options, OptionReader reader) : base(ModelName, options, reader, DefaultEpochs)
    {
        if (options.ImageSize < DraemModel.SizeMultiple || options.ImageSize % DraemModel.SizeMultiple != 0)
        {
            throw new FarmException(
                $"draem needs an image size that is a multiple of {DraemModel.SizeMultiple} (its U-Net pools five times), got {options.ImageSize}",
                field: "image_size");
        }

        learningRate = reader.Double("lr", DefaultLearningRate, 1e-12, 10);
        currentLearningRate = learningRate;
        var reconstructiveWidth = reader.Int("reconstructive_width", DefaultReconstructiveWidth, 1, 4096);
        var discriminativeWidth = reader.Int("discriminative_width", DefaultDiscriminativeWidth, 1, 4096);
        TextureFiles = options.Settings.TryGetValue("textures", out var folder) ? TexturesIn(folder) : [];
        simulator = new AnomalySimulator(options.ImageSize, TextureFiles);
        using var generator = SeedStream.Create(options.Seed, InitialisationTag);
        Model = new DraemModel(reconstructiveWidth, discriminativeWidth, generator);
        PlaceOnDevice(Model);
    }

    /// <summary>The trained module. Owned by this detector.</summary>
    public DraemModel Model { get; }

    public double LearningRate => learningRate;

    /// <summary>The anomaly source images of the <c>textures</c> setting, sorted (empty without it).</summary>
    public IReadOnlyList<string> TextureFiles { get; }

    /// <summary>The epochs after which the learning rate is multiplied by 0.2 (⌊0.8·epochs⌋, ⌊0.9·epochs⌋; 0 never fires).</summary>
    public IReadOnlyList<int> Milestones => [(int)Math.Floor(0.8 * Epochs), (int)Math.Floor(0.9 * Epochs)];

    /// <summary>The learning rate of the current (or last) training run after the milestones passed so far.</summary>
    public double CurrentLearningRate => currentLearningRate;

    /// <summary>Test hook: the learning rate the optimiser holds (valid during training, e.g. in the after-epoch hook).</summary>
    internal double OptimizerLearningRate => optimizer!.ParamGroups.Single().LearningRate;

    /// <summary>Test hook: when set, replaces the simulated (target, augmented, mask) of each training batch in [0, 1].</summary>
    internal Func<Tensor, (Tensor Target, Tensor Augmented, Tensor Mask)>? SimulationOverride { get; set; }

    protected override nn.Module TrainedModule => Model;

    /// <summary>A preprocessed (ImageNet-normalised) batch back in [0, 1] (clamped), DRAEM's input range.</summary>
    public static Tensor UnitImage(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var mean = tensor(Preprocessing.ImageNetMean.ToArray(), [1, 3, 1, 1], device: batch.device).to_type(batch.dtype);
        var std = tensor(Preprocessing.ImageNetStd.ToArray(), [1, 3, 1, 1], device: batch.device).to_type(batch.dtype);
        return ((batch * std) + mean).clamp(0, 1).MoveToOuterDisposeScope();
    }

    protected override IReadOnlyList<optim.Optimizer> CreateOptimizers()
    {
        // Each training run draws the same anomalies for a seed, however often the detector was trained before.
        augmentation?.Dispose();
        augmentation = SeedStream.Create(Seed, AugmentationTag);
        currentLearningRate = learningRate;
        optimizer = optim.Adam(Model.parameters(), learningRate);
        return [optimizer];
    }

    protected override Tensor Loss(Tensor batch, int epoch)
    {
        // Anomalies are simulated on the CPU with the seeded generator (where anomalib's data loader makes them), so a
        // seed draws the same anomalies on every device; the simulated batch then moves to the model's device.
        var images = UnitImage(batch.cpu());
        var (target, augmented, mask) = SimulationOverride?.Invoke(images) ?? simulator.Simulate(images, augmentation!);
        // The base reads the loss as float32 (the parity test runs the module in float64; gradients stay float64).
        return TrainingLoss(target.to(Device), augmented.to(Device), mask.to(Device)).to_type(ScalarType.Float32);
    }

    /// <summary>L2 + (1 − SSIM) between reconstruction and target, plus the focal loss of the segmentation.</summary>
    internal Tensor TrainingLoss(Tensor target, Tensor augmented, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var reconstruction = Model.Reconstruct(augmented);
        var probabilities = softmax(Model.Segment(reconstruction, augmented), 1);
        target = target.to_type(Model.DType);
        var l2 = nn.functional.mse_loss(reconstruction, target);
        var ssim = Ssim.Loss(reconstruction, target);
        var focal = FocalLoss.Compute(probabilities, mask.to_type(Model.DType));
        return (l2 + ssim + focal).MoveToOuterDisposeScope();
    }

    protected override void OnEpochEnd(int epoch)
    {
        foreach (var milestone in Milestones.Where(milestone => milestone == epoch))
        {
            currentLearningRate *= LearningRateDecay;
            foreach (var group in optimizer!.ParamGroups)
            {
                group.LearningRate = currentLearningRate;
            }
        }
    }

    protected override (Tensor Maps, Tensor Scores) Score(Tensor batch)
    {
        var images = UnitImage(batch);
        var reconstruction = Model.Reconstruct(images);
        var maps = softmax(Model.Segment(reconstruction, images), 1)[.., 1..2];
        var pooled = nn.functional.avg_pool2d(maps, ScoreWindow, stride: 1, padding: ScoreWindow / 2);
        return (maps.to_type(ScalarType.Float32), pooled.amax([1, 2, 3]).to_type(ScalarType.Float32));
    }

    private static string[] TexturesIn(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new FarmException($"draem: the textures folder {folder} does not exist", field: "textures");
        }

        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(path => ImageIo.ImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .ToArray();
        return files.Length > 0
            ? files
            : throw new FarmException($"draem: the textures folder {folder} holds no images (png, jpg, jpeg, bmp)", field: "textures");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            augmentation?.Dispose();
        }

        base.Dispose(disposing);
    }
}
