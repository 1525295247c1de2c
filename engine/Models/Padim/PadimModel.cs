using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Padim;

/// <summary>
/// PaDiM (Defard et al., 2021) as protocols.md fixes it: layer1..3 features (by default), the deeper ones resized to
/// the first one's grid with nearest interpolation and concatenated, a channel subset, then per grid position a Gaussian (mean and inverse
/// covariance, registered buffers) and the Mahalanobis distance, upsampled bilinearly to S × S and blurred (σ = 4).
/// A pure module: fitting statistics is <see cref="PadimDetector"/>'s job (it writes the buffers).
/// State-dict keys: backbone.*, channel_index [C] (int64), mean [C, P], inv_covariance [P, C, C].
/// </summary>
public sealed class PadimModel : nn.Module<Tensor, Tensor>
{
    /// <summary>The paper's and anomalib's layers.</summary>
    public static IReadOnlyList<int> DefaultLayers { get; } = [1, 2, 3];

    private readonly IReadOnlyList<int> layers;

    private readonly FeatureBackbone backbone;
    private readonly GaussianBlur blur;
    private readonly Tensor channel_index;
    private readonly Tensor mean;
    private readonly Tensor inv_covariance;
    private readonly LayerPart[] parts;

    /// <summary>
    /// What one backbone layer contributes to the embedding: its selected channels (<see cref="Local"/>, indices within
    /// the layer) and where they go (<see cref="Positions"/>, embedding channels); <see cref="Start"/> ≥ 0 when those
    /// positions are one consecutive run (always so for an ascending index), −1 otherwise. Planned once from the
    /// constructor's index, which the channel_index buffer records for the state dict.
    /// </summary>
    private sealed record LayerPart(long[] Local, long[] Positions, long Start, bool WholeLayer);

    /// <param name="backbone">The feature extractor; this module takes ownership (disposing it with itself).</param>
    /// <param name="channelIndex">Indices into the concatenated channels of <paramref name="layers"/>, kept in the given order.</param>
    /// <param name="imageSize">The input size S (inputs are S × S).</param>
    /// <param name="layers">Backbone layers (1..4, ascending); default <see cref="DefaultLayers"/>.</param>
    public PadimModel(FeatureBackbone backbone, IReadOnlyList<long> channelIndex, int imageSize, IReadOnlyList<int>? layers = null)
        : base("Padim")
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(channelIndex);
        this.layers = layers ?? DefaultLayers;
        if (this.layers.Count == 0 || this.layers.Any(layer => layer is < 1 or > 4) || !this.layers.SequenceEqual(this.layers.Distinct().Order()))
        {
            throw new ArgumentException("layers must be distinct, ascending and in 1..4", nameof(layers));
        }

        TotalChannels = this.layers.Sum(layer => backbone.LayerChannels[layer - 1]);
        if (channelIndex.Count == 0 || channelIndex.Any(index => index < 0 || index >= TotalChannels)
            || channelIndex.Distinct().Count() != channelIndex.Count)
        {
            throw new ArgumentException($"channel indices must be distinct and in [0, {TotalChannels})", nameof(channelIndex));
        }

        this.backbone = backbone;
        ImageSize = imageSize;
        FeatureSize = backbone.LayerSize(this.layers[0], imageSize);
        Channels = channelIndex.Count;
        parts = PlanLayers(channelIndex, this.layers.Select(layer => backbone.LayerChannels[layer - 1]).ToArray());
        blur = new GaussianBlur(4.0);
        if (imageSize <= blur.Padding)
        {
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, $"must exceed the blur padding {blur.Padding}");
        }

        channel_index = tensor(channelIndex.ToArray(), ScalarType.Int64).DetachFromDisposeScope();
        mean = zeros(Channels, Positions, ScalarType.Float32).DetachFromDisposeScope();
        inv_covariance = zeros(Positions, Channels, Channels, ScalarType.Float32).DetachFromDisposeScope();
        RegisterComponents();
        eval();
    }

    public int ImageSize { get; }

    /// <summary>Side of the first layer's grid the Gaussians live on (S/4 for ResNets' layer1).</summary>
    public int FeatureSize { get; }

    /// <summary>Grid positions P = FeatureSize².</summary>
    public int Positions => FeatureSize * FeatureSize;

    /// <summary>Channels C after the subset.</summary>
    public int Channels { get; }

    /// <summary>Channels of the layers together, before the subset.</summary>
    public IReadOnlyList<int> Layers => layers;

    /// <summary>Total channels of <see cref="Layers"/>, before the subset.</summary>
    public int TotalChannels { get; }

    public bool IsFitted { get; private set; }

    public FeatureBackbone Backbone => backbone;

    /// <summary>The buffers themselves (not copies): owned by this module, never to be disposed by callers.</summary>
    internal Tensor Mean => mean;

    internal Tensor InverseCovariance => inv_covariance;

    internal Tensor ChannelIndex => channel_index;

    /// <summary>Copies fitted statistics in: mean [C, P] and inverse covariance [P, C, C] (any float dtype).</summary>
    public void SetGaussian(Tensor fittedMean, Tensor inverseCovariance)
    {
        if (!fittedMean.shape.SequenceEqual(mean.shape) || !inverseCovariance.shape.SequenceEqual(inv_covariance.shape))
        {
            throw new ArgumentException(
                $"expected mean [{string.Join(", ", mean.shape)}] and inverse covariance [{string.Join(", ", inv_covariance.shape)}]");
        }

        using var noGrad = no_grad();
        mean.copy_(fittedMean);
        inv_covariance.copy_(inverseCovariance);
        IsFitted = true;
    }

    /// <summary>Marks the buffers as written by a fitting routine that filled them in place.</summary>
    internal void MarkFitted() => IsFitted = true;

    internal void RequireFitted()
    {
        if (!IsFitted)
        {
            throw new InvalidOperationException("PaDiM is not fitted");
        }
    }

    /// <summary>
    /// The PaDiM embedding [B, C, h, w] of a preprocessed batch [B, 3, S, S]: the selected channels of each layer,
    /// nearest-upsampled to the first layer's grid, in channel-index order. Equal to concatenating the upsampled layers
    /// and selecting the channels afterwards (as anomalib does), but only the selected channels are upsampled, and
    /// straight into the embedding: libtorch 2.10's CPU nearest upsampling took 0.23-0.45 s for Wide-ResNet's layer3
    /// at batch 8 (PyTorch 1.13: 0.04 s), a broadcast copy 0.02-0.04 s.
    /// </summary>
    public Tensor Embed(Tensor batch)
    {
        using var scope = NewDisposeScope();
        var features = backbone.Features(batch, layers);
        var (count, height, width) = (features[0].shape[0], features[0].shape[2], features[0].shape[3]);
        var embedding = empty([count, Channels, height, width], features[0].dtype, features[0].device);
        for (var layer = 0; layer < features.Length; layer++)
        {
            var part = parts[layer];
            if (part.Local.Length == 0)
            {
                continue;
            }

            var device = features[layer].device;
            var selected = part.WholeLayer ? features[layer] : features[layer].index_select(1, tensor(part.Local, device: device));
            if (part.Start >= 0)
            {
                UpsampleNearestInto(selected, embedding.narrow(1, part.Start, part.Local.Length));
            }
            else
            {
                var upsampled = nn.functional.interpolate(selected, [height, width], mode: InterpolationMode.Nearest);
                embedding.index_copy_(1, tensor(part.Positions, device: device), upsampled);
            }
        }

        return embedding.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Nearest upsampling of <paramref name="source"/> [B, k, h, w] into <paramref name="target"/> [B, k, H, W]. For
    /// power-of-two factors (ResNet grids) a broadcast copy: torch's nearest index floor(i · h / H) is exactly i / f
    /// there. Other sizes go through interpolate.
    /// </summary>
    private static void UpsampleNearestInto(Tensor source, Tensor target)
    {
        var (count, channels, height, width) = (source.shape[0], source.shape[1], source.shape[2], source.shape[3]);
        var (targetHeight, targetWidth) = (target.shape[2], target.shape[3]);
        if (targetHeight % height == 0 && targetWidth % width == 0
            && long.IsPow2(targetHeight / height) && long.IsPow2(targetWidth / width))
        {
            var (rows, columns) = (targetHeight / height, targetWidth / width);
            using var blocks = target.view(count, channels, height, rows, width, columns);
            using var rowsAdded = source.unsqueeze(3);
            using var both = rowsAdded.unsqueeze(5);
            using var broadcast = both.expand(count, channels, height, rows, width, columns);
            blocks.copy_(broadcast);
            return;
        }

        using var upsampled = nn.functional.interpolate(source, [targetHeight, targetWidth], mode: InterpolationMode.Nearest);
        target.copy_(upsampled);
    }

    /// <summary>Splits the channel index by layer (layers concatenated in order, <paramref name="layerChannels"/> each).</summary>
    private static LayerPart[] PlanLayers(IReadOnlyList<long> channelIndex, int[] layerChannels)
    {
        var result = new LayerPart[layerChannels.Length];
        var offset = 0L;
        for (var layer = 0; layer < layerChannels.Length; layer++)
        {
            var (first, end) = (offset, offset + layerChannels[layer]);
            var positions = Enumerable.Range(0, channelIndex.Count).Where(position => channelIndex[position] >= first && channelIndex[position] < end)
                .Select(position => (long)position).ToArray();
            var local = positions.Select(position => channelIndex[(int)position] - first).ToArray();
            var consecutive = positions.Length > 0 && positions[^1] - positions[0] == positions.Length - 1;
            var wholeLayer = local.Length == layerChannels[layer] && local.Select((index, i) => index == i).All(same => same);
            result[layer] = new LayerPart(local, positions, consecutive ? positions[0] : -1, wholeLayer);
            offset = end;
        }

        return result;
    }

    /// <summary>Mahalanobis distances [B, 1, h, w] on the layer1 grid: sqrt(max(0, δᵀ Σ⁻¹ δ)).</summary>
    public Tensor DistanceMap(Tensor batch)
    {
        RequireFitted();
        using var scope = NewDisposeScope();
        return Mahalanobis(Embed(batch)).MoveToOuterDisposeScope();
    }

    /// <summary>Mahalanobis distances [B, 1, h, w] of an embedding [B, C, h, w] (see <see cref="DistanceMap"/>).</summary>
    internal Tensor Mahalanobis(Tensor embedding)
    {
        RequireFitted();
        using var scope = NewDisposeScope();
        var (count, height, width) = (embedding.shape[0], embedding.shape[2], embedding.shape[3]);
        // [B, C, P] → [P, C, B] so that one batched matmul applies each position's Σ⁻¹ to all images.
        var delta = embedding.reshape(count, Channels, Positions).permute(2, 1, 0) - mean.t().unsqueeze(2);
        var squared = (bmm(inv_covariance, delta) * delta).sum(1);
        return squared.clamp_min_(0).sqrt_().t().reshape(count, 1, height, width).MoveToOuterDisposeScope();
    }

    /// <summary>Blurred anomaly maps [B, 1, S, S] of a preprocessed batch [B, 3, S, S].</summary>
    public override Tensor forward(Tensor batch)
    {
        using var scope = NewDisposeScope();
        return UpsampleAndBlur(DistanceMap(batch)).MoveToOuterDisposeScope();
    }

    /// <summary>Distance maps [B, 1, h, w] bilinearly resized to S × S and blurred: the anomaly maps.</summary>
    internal Tensor UpsampleAndBlur(Tensor distances)
    {
        using var scope = NewDisposeScope();
        var upsampled = nn.functional.interpolate(
            distances, [ImageSize, ImageSize], mode: InterpolationMode.Bilinear, align_corners: false);
        return blur.forward(upsampled).MoveToOuterDisposeScope();
    }
}
