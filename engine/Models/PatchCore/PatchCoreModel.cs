using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using static TorchSharp.torch;

namespace Farm.Engine.Models.PatchCore;

/// <summary>
/// PatchCore (Roth et al., 2022) as protocols.md fixes it: layer2 and layer3 features, each 3×3 average-pooled
/// (stride 1, padding 1, zero padding counted), layer3 resized to layer2's grid bilinearly (align_corners false) and
/// concatenated; patch score = Euclidean distance to the nearest memory-bank feature; image score = w·s* with the
/// paper's reweighting; map = patch scores on the layer2 grid, bilinear to S × S, Gaussian blur σ = 4.
/// A pure module: choosing the memory bank (coreset) is <see cref="PatchCoreDetector"/>'s job.
/// State-dict keys: backbone.*, memory_bank [M, C] (M = 0 until a bank is set).
/// </summary>
public sealed class PatchCoreModel : nn.Module<Tensor, (Tensor Maps, Tensor Scores)>
{
    private static readonly int[] Layers = [2, 3];

    private readonly FeatureBackbone backbone;
    private readonly GaussianBlur blur;
    private readonly Tensor memory_bank;

    /// <param name="backbone">The feature extractor; this module takes ownership (disposing it with itself).</param>
    /// <param name="imageSize">The input size S (inputs are S × S).</param>
    /// <param name="numNeighbors">k of the image-score reweighting (1 = plain maximum, as anomalib does).</param>
    /// <param name="searchBudgetBytes">Bound on the nearest-neighbour search's per-block temporaries.</param>
    public PatchCoreModel(FeatureBackbone backbone, int imageSize, int numNeighbors,
        long searchBudgetBytes = NearestNeighbourSearch.DefaultBudgetBytes) : base("PatchCore")
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentOutOfRangeException.ThrowIfLessThan(numNeighbors, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(searchBudgetBytes, 1);
        this.backbone = backbone;
        ImageSize = imageSize;
        NumNeighbors = numNeighbors;
        SearchBudgetBytes = searchBudgetBytes;
        FeatureSize = backbone.LayerSize(2, imageSize);
        Channels = Layers.Sum(layer => backbone.LayerChannels[layer - 1]);
        blur = new GaussianBlur(4.0);
        if (imageSize <= blur.Padding)
        {
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, $"must exceed the blur padding {blur.Padding}");
        }

        memory_bank = zeros(0, Channels, ScalarType.Float32).DetachFromDisposeScope();
        RegisterComponents();
        eval();
    }

    public int ImageSize { get; }

    /// <summary>Side of the layer2 grid the patches live on (S/8 for ResNets).</summary>
    public int FeatureSize { get; }

    /// <summary>Patches per image, FeatureSize².</summary>
    public int PatchesPerImage => FeatureSize * FeatureSize;

    /// <summary>Channels C of a patch feature (layer2 + layer3).</summary>
    public int Channels { get; }

    public int NumNeighbors { get; }

    public long SearchBudgetBytes { get; }

    public bool IsFitted { get; private set; }

    /// <summary>Rows M of the memory bank.</summary>
    public long MemoryBankSize => memory_bank.shape[0];

    public FeatureBackbone Backbone => backbone;

    /// <summary>The buffer itself (not a copy): owned by this module, never to be disposed by callers.</summary>
    internal Tensor MemoryBank => memory_bank;

    /// <summary>Copies a memory bank [M, C] in (M ≥ 1, any float dtype).</summary>
    public void SetMemoryBank(Tensor bank)
    {
        ArgumentNullException.ThrowIfNull(bank);
        if (bank.dim() != 2 || bank.shape[0] < 1 || bank.shape[1] != Channels)
        {
            throw new ArgumentException($"expected a memory bank [M ≥ 1, {Channels}], got [{string.Join(", ", bank.shape)}]", nameof(bank));
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // set_ re-points the registered buffer at a private copy, so state_dict sees the new bank under the same key.
        memory_bank.set_(bank.to(ScalarType.Float32, memory_bank.device).clone());
        IsFitted = true;
    }

    /// <summary>The PatchCore embedding [B, C, h, w] (layer2 grid) of a preprocessed batch [B, 3, S, S].</summary>
    public Tensor Embed(Tensor batch)
    {
        using var scope = NewDisposeScope();
        var features = backbone.Features(batch, Layers);
        var local = features
            .Select(map => nn.functional.avg_pool2d(map, kernel_size: 3, stride: 1, padding: 1, count_include_pad: true))
            .ToArray();
        var grid = new long[] { local[0].shape[2], local[0].shape[3] };
        var resized = nn.functional.interpolate(local[1], grid, mode: InterpolationMode.Bilinear, align_corners: false);
        return cat([local[0], resized], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Patch features [B·h·w, C] of a batch, rows ordered by image, then row, then column.</summary>
    public Tensor PatchFeatures(Tensor batch)
    {
        using var scope = NewDisposeScope();
        var embedding = Embed(batch);
        return embedding.permute(0, 2, 3, 1).reshape(-1, Channels).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Patch scores [B, 1, h, w] (distance to the nearest bank feature) and image scores [B].</summary>
    public (Tensor PatchScores, Tensor ImageScores) Score(Tensor batch)
    {
        if (!IsFitted)
        {
            throw new InvalidOperationException("PatchCore has no memory bank (not fitted)");
        }

        using var scope = NewDisposeScope();
        var count = batch.shape[0];
        var features = PatchFeatures(batch);
        Phases?.Lap("predict: backbone + patch features");
        var (distances, nearest) = NearestNeighbourSearch.Search(features, memory_bank, 1, SearchBudgetBytes);
        Phases?.Lap("predict: nearest-neighbour search");
        var patchScores = distances.view(count, PatchesPerImage);
        var (best, bestPatch) = patchScores.max(1);
        var imageScores = NumNeighbors == 1 ? best : Reweight(features, nearest.view(count, PatchesPerImage), best, bestPatch);
        Phases?.Lap("predict: image-score reweighting");
        return (patchScores.view(count, 1, FeatureSize, FeatureSize).MoveToOuterDisposeScope(), imageScores.MoveToOuterDisposeScope());
    }

    /// <summary>Anomaly maps [B, 1, S, S] and image scores [B] of a preprocessed batch [B, 3, S, S].</summary>
    public override (Tensor Maps, Tensor Scores) forward(Tensor batch)
    {
        using var scope = NewDisposeScope();
        var (patchScores, imageScores) = Score(batch);
        var upsampled = nn.functional.interpolate(
            patchScores, [ImageSize, ImageSize], mode: InterpolationMode.Bilinear, align_corners: false);
        var maps = blur.forward(upsampled);
        Phases?.Lap("predict: upsample + blur");
        return (maps.MoveToOuterDisposeScope(), imageScores.MoveToOuterDisposeScope());
    }

    /// <summary>Set by the models benchmark's profile (through the detector); null otherwise.</summary>
    internal PhaseClock? Phases { get; set; }

    /// <summary>
    /// The paper's image score: with s* the largest patch score, m* that patch's nearest bank feature and N_k(m*) the
    /// k nearest bank features of m* (m* first, at distance 0), w = 1 − softmax(‖p* − n‖ for n ∈ N_k(m*))[0] and
    /// score = w·s*. (The softmax is over distances, not negated distances, as in the paper and anomalib.)
    /// </summary>
    private Tensor Reweight(Tensor features, Tensor nearest, Tensor best, Tensor bestPatch)
    {
        using var scope = NewDisposeScope();
        var count = best.shape[0];
        var rows = arange(count, ScalarType.Int64, features.device).mul_(PatchesPerImage).add_(bestPatch);
        var worstPatches = features.index_select(0, rows);                                   // p*, [B, C]
        var closest = nearest.gather(1, bestPatch.unsqueeze(1)).squeeze(1);                  // index of m*, [B]
        var k = (int)Math.Min(NumNeighbors, MemoryBankSize);
        var (_, support) = NearestNeighbourSearch.Search(memory_bank.index_select(0, closest), memory_bank, k, SearchBudgetBytes);
        var supportFeatures = memory_bank.index_select(0, support.reshape(-1)).view(count, k, Channels);
        var distances = (worstPatches.unsqueeze(1) - supportFeatures).pow_(2).sum(2).sqrt_();
        var weights = 1 - nn.functional.softmax(distances, 1).select(1, 0);
        return (weights * best).MoveToOuterDisposeScope();
    }
}
