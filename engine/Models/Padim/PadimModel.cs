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
    private readonly bool usesAllChannels;

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
        usesAllChannels = channelIndex.Select((index, position) => index == position).All(same => same)
                          && Channels == TotalChannels;
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

    /// <summary>The PaDiM embedding [B, C, h, w] of a preprocessed batch [B, 3, S, S].</summary>
    public Tensor Embed(Tensor batch)
    {
        using var scope = NewDisposeScope();
        var features = backbone.Features(batch, layers);
        var grid = new long[] { features[0].shape[2], features[0].shape[3] };
        var parts = new Tensor[features.Length];
        parts[0] = features[0];
        for (var i = 1; i < features.Length; i++)
        {
            parts[i] = nn.functional.interpolate(features[i], grid, mode: InterpolationMode.Nearest);
            features[i].Dispose();
        }

        var embedding = cat(parts, 1);
        if (!usesAllChannels)
        {
            embedding = embedding.index_select(1, channel_index);
        }

        return embedding.MoveToOuterDisposeScope();
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
