using static TorchSharp.torch;

namespace Farm.Engine.Backbones;

/// <summary>
/// A frozen CNN that exposes intermediate feature maps ("taps") by layer number (1 = layer1 … 4 = layer4, torchvision's
/// naming). Always in eval mode: batch norm uses running statistics.
/// </summary>
public abstract class FeatureBackbone : nn.Module<Tensor, Tensor>
{
    protected FeatureBackbone(string name) : base(name)
    {
    }

    /// <summary>The registry name, e.g. "resnet18".</summary>
    public abstract string Architecture { get; }

    /// <summary>Channels of layer1..layer4, index 0 = layer1.</summary>
    public abstract IReadOnlyList<int> LayerChannels { get; }

    /// <summary>Spatial downsampling of layer1..layer4 relative to the input (4, 8, 16, 32 for ResNets).</summary>
    public abstract IReadOnlyList<int> LayerStrides { get; }

    /// <summary>Height (or width) of layer <paramref name="layer"/>'s feature map for an input of that height (or width).</summary>
    public abstract int LayerSize(int layer, int inputSize);

    /// <summary>
    /// Feature maps of the requested layers (numbers 1..4), in the order requested, computing only as deep as the
    /// deepest one. The caller owns the returned tensors; <paramref name="input"/> is not disposed.
    /// </summary>
    public abstract Tensor[] Features(Tensor input, IReadOnlyList<int> layers);
}
