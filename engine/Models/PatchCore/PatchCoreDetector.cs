using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using TorchSharp;
using static TorchSharp.torch;

namespace Farm.Engine.Models.PatchCore;

/// <summary>
/// The "patchcore" model of <see cref="ModelRegistry"/>: builds the backbone (seeded random init, or pretrained
/// weights from <see cref="ModelOptions.WeightsPath"/>), collects the training patch features, picks the memory bank
/// by greedy k-center coreset selection and scores batches.
/// Settings: <c>coreset_ratio</c> (fraction of the training patches kept, in (0, 1]; default 0.1; 1 keeps all and
/// skips the selection), <c>num_neighbors</c> (k of the image-score reweighting; default 9), <c>projection_dim</c>
/// (the selection runs on features projected to this many dimensions by a seeded Gaussian random projection;
/// default 128, the dimension of the PatchCore authors' implementation; 0 selects on the raw features).
/// Why a dense Gaussian projection: one seeded draw, Johnson-Lindenstrauss guarantees as good as anomalib's sparse
/// projection, and at 128 dimensions the projection itself costs less than one backbone layer.
/// Memory: the fit keeps every training patch feature (N·h·w·C float32, needed to build the bank) plus their
/// projections; the selection and the scoring work in chunks under a byte budget.
/// </summary>
public sealed class PatchCoreDetector : IAnomalyDetector
{
    public const string ModelName = "patchcore";

    public const int MinImageSize = 32;

    public static IReadOnlyList<string> SettingKeys { get; } = ["coreset_ratio", "num_neighbors", "projection_dim"];

    private const ulong ProjectionStream = 0x5041_5443_4850_524FUL;
    private const ulong StartStream = 0x5041_5443_4853_5452UL;

    private readonly int seed;
    private readonly Device device;

    public PatchCoreDetector(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var reader = new OptionReader(ModelName, options, SettingKeys);
        if (options.ImageSize < MinImageSize)
        {
            throw new FarmException($"patchcore needs an image size of at least {MinImageSize}, got {options.ImageSize}", field: "image_size");
        }

        CoresetRatio = reader.Double("coreset_ratio", 0.1, double.Epsilon, 1.0);
        ProjectionDim = reader.Int("projection_dim", 128, 0, 65536);
        var neighbours = reader.Int("num_neighbors", 9, 1, 10_000);
        seed = options.Seed;

        var backbone = BackboneRegistry.Create(options.Backbone, options.Seed);
        try
        {
            if (options.WeightsPath is not null)
            {
                BackboneWeights.Load(backbone, options.WeightsPath);
            }

            Model = new PatchCoreModel(backbone, options.ImageSize, neighbours);
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
    public PatchCoreModel Model { get; }

    public double CoresetRatio { get; }

    public int ProjectionDim { get; }

    /// <summary>Indices of the memory-bank rows among all training patches (selection order); empty before Fit.</summary>
    public IReadOnlyList<long> CoresetIndices { get; private set; } = [];

    /// <summary>Training patches seen by Fit.</summary>
    public long TrainingPatches { get; private set; }

    /// <summary>Memory-bank size for n training patches: all when the ratio is 1, else max(1, ⌊n·ratio⌋) (anomalib's int()).</summary>
    public static long CoresetSize(long patches, double ratio) =>
        ratio >= 1.0 ? patches : Math.Clamp((long)Math.Floor(patches * ratio), 1, patches);

    /// <summary>The seeded projection [C, dim] the selection uses (its own stream: independent of the backbone init).</summary>
    public static Tensor CoresetProjection(int channels, int dim, int seed)
    {
        using var generator = SeedStream.Create(seed, ProjectionStream);
        return RandomProjection.Gaussian(channels, dim, generator);
    }

    /// <summary>The seeded first centre of the selection among n training patches.</summary>
    public static long FirstCentre(long patches, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patches, 1);
        using var generator = SeedStream.Create(seed, StartStream);
        using var draw = randint(0, patches, [1], ScalarType.Int64, generator: generator);
        return draw.item<long>();
    }

    /// <summary>Streams the batches once, keeping their patch features (and projections), then picks the bank.</summary>
    public void Fit(IEnumerable<Tensor> normalBatches)
    {
        ArgumentNullException.ThrowIfNull(normalBatches);
        if (Model.IsFitted)
        {
            throw new InvalidOperationException("PatchCore is already fitted");
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // Drawn on the CPU (the seeded generator's device), so a seed gives the same projection on every device.
        var projection = ProjectionDim > 0 && CoresetRatio < 1.0 ? CoresetProjection(Model.Channels, ProjectionDim, seed).to(device) : null;
        var features = new List<Tensor>();
        var projected = new List<Tensor>();
        Phases?.Restart();
        foreach (var batch in normalBatches)
        {
            DetectorBatches.RequireImageBatch(batch, ImageSize);
            using var batchScope = NewDisposeScope();
            var patches = Model.PatchFeatures(DetectorBatches.OnDevice(batch, device));
            features.Add(patches.MoveToOuterDisposeScope());
            Phases?.Lap("fit: backbone + patch features");
            if (projection is not null)
            {
                projected.Add(patches.matmul(projection).MoveToOuterDisposeScope());
                Phases?.Lap("fit: random projection");
            }
        }

        var total = features.Sum(part => part.shape[0]);
        if (total == 0)
        {
            throw new FarmException("PatchCore needs at least one training image");
        }

        var size = CoresetSize(total, CoresetRatio);
        long[] indices;
        if (size == total)
        {
            indices = [.. Enumerable.Range(0, checked((int)total)).Select(index => (long)index)];
            Model.SetMemoryBank(features.Count == 1 ? features[0] : cat(features, 0));
        }
        else
        {
            var points = projection is not null ? cat(projected, 0) : cat(features, 0);
            indices = KCenterGreedy.Select(points, checked((int)size), FirstCentre(total, seed));
            Phases?.Lap("fit: coreset selection");
            Model.SetMemoryBank(GatherRows(features, indices));
        }

        Phases?.Lap("fit: memory bank");

        CoresetIndices = indices;
        TrainingPatches = total;
    }

    public ScoredBatch Predict(Tensor batch)
    {
        DetectorBatches.RequireImageBatch(batch, ImageSize);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Phases?.Restart();
        var (maps, imageScores) = Model.forward(DetectorBatches.OnDevice(batch, device));
        var scored = DetectorBatches.ToScoredBatch(maps, imageScores, ImageSize);
        Phases?.Lap("predict: copy-out");
        return scored;
    }

    /// <summary>Set by the models benchmark's profile to time the phases (the model's too); null otherwise.</summary>
    internal PhaseClock? Phases
    {
        get => Model.Phases;
        set => Model.Phases = value;
    }

    public void Dispose() => Model.Dispose();

    private int ImageSize => Model.ImageSize;

    /// <summary>Rows of the concatenation of <paramref name="parts"/> at <paramref name="indices"/>, in that order, without concatenating the parts.</summary>
    private static Tensor GatherRows(IReadOnlyList<Tensor> parts, long[] indices)
    {
        using var scope = NewDisposeScope();
        var device = parts[0].device;
        var output = empty(indices.Length, parts[0].shape[1], parts[0].dtype, device);
        var offset = 0L;
        foreach (var part in parts)
        {
            var rows = part.shape[0];
            var positions = new List<long>();
            var local = new List<long>();
            for (var i = 0; i < indices.Length; i++)
            {
                if (indices[i] >= offset && indices[i] < offset + rows)
                {
                    positions.Add(i);
                    local.Add(indices[i] - offset);
                }
            }

            if (positions.Count > 0)
            {
                output.index_copy_(0, tensor(positions.ToArray(), device: device), part.index_select(0, tensor(local.ToArray(), device: device)));
            }

            offset += rows;
        }

        return output.MoveToOuterDisposeScope();
    }
}
