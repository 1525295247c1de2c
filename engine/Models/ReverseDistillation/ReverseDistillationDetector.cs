using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using Farm.Engine.Models.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.ReverseDistillation;

/// <summary>
/// The "rd4ad" model of <see cref="ModelRegistry"/>: anomaly detection by reverse distillation from a one-class
/// embedding (Deng &amp; Li, CVPR 2022). A frozen teacher (the backbone, in eval mode; seeded random init or pretrained
/// weights from <see cref="ModelOptions.WeightsPath"/>) gives layer1-3 features; the trainable one-class bottleneck
/// embedding (<see cref="OneClassBottleneck"/>) fuses them into a compact code, from which the student decoder
/// (<see cref="ReverseDecoder"/>) reconstructs all three. Training loss: for each scale, the batch mean of
/// 1 − cosine similarity of the flattened teacher and student maps, summed over the scales (the authors'
/// <c>loss_fucntion</c>, anomalib's <c>ReverseDistillationLoss</c>). Anomaly map: per scale 1 − cosine similarity over
/// channels at each position, upsampled bilinearly (align_corners true, as both the authors and anomalib do) to S × S,
/// added over the scales (the authors' evaluation and anomalib's default), then a Gaussian blur with σ = 4; image
/// score = the map's maximum.
/// Defaults from the authors' main.py and the paper: 200 epochs, Adam with learning rate 0.005 and betas (0.5, 0.999)
/// on the bottleneck and decoder (anomalib uses betas (0.5, 0.99)); batch size 16 and 256 px are the sweep's to set.
/// Settings: <c>epochs</c> (default 200), <c>anomaly_map_mode</c> (<c>add</c>, the default, or <c>multiply</c>: the
/// product of the three upsampled distance maps, anomalib's other mode).
/// Backbones: resnet18 and wide_resnet50_2 (the decoder mirrors the teacher: see
/// <see cref="ReverseDistillationArchitecture"/>); others are refused. The image size must be a multiple of 32 (the
/// decoder doubles the embedding's grid three times to meet the teacher's grids), and at 32 px (a 1 × 1 embedding)
/// training batches need at least two images for batch norm.
/// </summary>
public sealed class ReverseDistillationDetector : TrainedDetector
{
    public const string ModelName = "rd4ad";

    public const int DefaultEpochs = 200;

    public const double LearningRate = 0.005;

    public const double Beta1 = 0.5;

    public const double Beta2 = 0.999;

    public const int MinImageSize = 32;

    public static IReadOnlyList<string> SettingKeys { get; } = [EpochsSetting, "anomaly_map_mode"];

    private static readonly int[] Layers = [1, 2, 3];

    private const ulong StudentStream = 0x5244_3441_4453_5455UL;

    private readonly FeatureBackbone teacher;
    private readonly ReverseDistillationStudent student;
    private readonly GaussianBlur blur;

    public ReverseDistillationDetector(ModelOptions options)
        : this(options, new OptionReader(ModelName, options, SettingKeys))
    {
    }

    private ReverseDistillationDetector(ModelOptions options, OptionReader reader)
        : base(ModelName, options, reader, DefaultEpochs)
    {
        if (options.ImageSize < MinImageSize || options.ImageSize % 32 != 0)
        {
            throw new FarmException(
                $"rd4ad needs an image size that is a multiple of 32 (its decoder doubles the embedding's grid three times " +
                $"to meet the teacher's layer1-3 grids), got {options.ImageSize}", field: "image_size");
        }

        Multiply = reader.Choice("anomaly_map_mode", "add", ["add", "multiply"]) == "multiply";
        var architecture = ReverseDistillationArchitecture.For(options.Backbone);
        teacher = BackboneRegistry.Create(options.Backbone, options.Seed);
        try
        {
            if (options.WeightsPath is not null)
            {
                BackboneWeights.Load(teacher, options.WeightsPath);
            }

            Freeze(teacher);
            using var generator = SeedStream.Create(options.Seed, StudentStream);
            student = new ReverseDistillationStudent(architecture, generator);
            blur = new GaussianBlur(4.0);
            PlaceOnDevice(teacher, student, blur);
            EmbeddingSize = teacher.LayerSize(3, options.ImageSize) / 2;
        }
        catch
        {
            teacher.Dispose();
            student?.Dispose();
            throw;
        }
    }

    /// <summary>True for the <c>multiply</c> anomaly-map mode, false for <c>add</c>.</summary>
    public bool Multiply { get; }

    /// <summary>The frozen teacher (owned by this detector).</summary>
    public FeatureBackbone Teacher => teacher;

    /// <summary>The trained bottleneck and decoder (owned by this detector).</summary>
    public ReverseDistillationStudent Student => student;

    /// <summary>Side of the one-class embedding's grid (S/32).</summary>
    public int EmbeddingSize { get; }

    /// <summary>The paper's optimiser: Adam, learning rate 0.005, betas (0.5, 0.999), over the given (student) parameters.</summary>
    public static optim.Optimizer CreateOptimizer(IEnumerable<Parameter> parameters) =>
        optim.Adam(parameters, LearningRate, beta1: Beta1, beta2: Beta2);

    /// <summary>The teacher's layer1-3 features, without gradients.</summary>
    public static Tensor[] TeacherFeatures(FeatureBackbone teacher, Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        using var noGrad = no_grad();
        return teacher.Features(batch, Layers);
    }

    /// <summary>Σ over scales of mean over the batch of 1 − cos(flattened teacher map, flattened student map).</summary>
    public static Tensor Loss(IReadOnlyList<Tensor> teacherFeatures, IReadOnlyList<Tensor> studentFeatures)
    {
        ArgumentNullException.ThrowIfNull(teacherFeatures);
        ArgumentNullException.ThrowIfNull(studentFeatures);
        using var scope = NewDisposeScope();
        Tensor? total = null;
        for (var i = 0; i < teacherFeatures.Count; i++)
        {
            var count = teacherFeatures[i].shape[0];
            var similarity = nn.functional.cosine_similarity(
                teacherFeatures[i].reshape(count, -1), studentFeatures[i].reshape(count, -1), dim: 1);
            var term = (1 - similarity).mean();
            total = total is null ? term : total + term;
        }

        return total!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Anomaly maps [B, 1, S, S]: per scale 1 − cosine similarity over channels, bilinear (align_corners true) to S × S,
    /// added (or multiplied) over the scales, then blurred.
    /// </summary>
    public static Tensor AnomalyMap(IReadOnlyList<Tensor> teacherFeatures, IReadOnlyList<Tensor> studentFeatures,
        int imageSize, bool multiply, GaussianBlur blur)
    {
        ArgumentNullException.ThrowIfNull(teacherFeatures);
        ArgumentNullException.ThrowIfNull(studentFeatures);
        ArgumentNullException.ThrowIfNull(blur);
        using var scope = NewDisposeScope();
        Tensor? combined = null;
        for (var i = 0; i < teacherFeatures.Count; i++)
        {
            var distance = (1 - nn.functional.cosine_similarity(teacherFeatures[i], studentFeatures[i], dim: 1)).unsqueeze(1);
            var upsampled = nn.functional.interpolate(
                distance, [imageSize, imageSize], mode: InterpolationMode.Bilinear, align_corners: true);
            combined = combined is null ? upsampled : multiply ? combined * upsampled : combined + upsampled;
        }

        return blur.forward(combined!).MoveToOuterDisposeScope();
    }

    protected override nn.Module TrainedModule => student;

    protected override IReadOnlyList<optim.Optimizer> CreateOptimizers() => [CreateOptimizer(student.parameters())];

    protected override Tensor Loss(Tensor batch, int epoch)
    {
        if (batch.shape[0] == 1 && EmbeddingSize == 1)
        {
            throw new FarmException(
                $"rd4ad: a training batch of one image at image size {ImageSize} leaves the 1 × 1 embedding's batch norm " +
                "one value per channel; use a batch size of at least 2 or an image size of at least 64", field: "batch_size");
        }

        var teacherFeatures = TeacherFeatures(teacher, batch);
        return Loss(teacherFeatures, student.forward(teacherFeatures));
    }

    protected override (Tensor Maps, Tensor Scores) Score(Tensor batch)
    {
        var teacherFeatures = TeacherFeatures(teacher, batch);
        var maps = AnomalyMap(teacherFeatures, student.forward(teacherFeatures), ImageSize, Multiply, blur);
        return (maps, maps.amax([1, 2, 3]));
    }

    /// <summary>The teacher stays in eval mode (running batch-norm statistics) and frozen; only the student switches.</summary>
    protected override void SetTraining(bool training) => student.train(training);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            teacher.Dispose();
            blur.Dispose();
        }
    }

    private static void Freeze(FeatureBackbone backbone)
    {
        foreach (var parameter in backbone.parameters())
        {
            parameter.requires_grad = false;
        }
    }
}
