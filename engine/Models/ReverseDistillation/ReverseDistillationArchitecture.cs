using Farm.Engine.Backbones;

namespace Farm.Engine.Models.ReverseDistillation;

/// <summary>
/// How the trainable half of RD4AD mirrors a teacher: the residual block kind of the bottleneck's ResNet stage and the
/// decoder, the blocks in each, and torchvision's width_per_group. Taken from the authors' code (hq-deng/RD4AD:
/// <c>resnet18()</c> / <c>wide_resnet50_2()</c> return the encoder with its <c>BN_layer</c>, and <c>de_resnet18</c> /
/// <c>de_wide_resnet50_2</c> the decoder): the one-class bottleneck embedding ends in one stage of 2 basic blocks for
/// ResNet-18 and 3 wide bottleneck blocks for Wide-ResNet-50-2, and the decoder's layers 1-3 (deepest first) take
/// [2, 2, 2] basic or [3, 4, 6] bottleneck blocks.
/// </summary>
/// <param name="Backbone">The teacher's registry name.</param>
/// <param name="Block">The residual block kind of the bottleneck stage and the decoder.</param>
/// <param name="BottleneckBlocks">Blocks of the bottleneck's ResNet stage.</param>
/// <param name="DecoderBlocks">Blocks of decoder layers 1, 2, 3 (layer1 upsamples the embedding first).</param>
/// <param name="WidthPerGroup">torchvision's width_per_group (128 for the "_2" wide ResNets).</param>
public sealed record ReverseDistillationArchitecture(
    string Backbone, ResNetBlock Block, int BottleneckBlocks, IReadOnlyList<int> DecoderBlocks, int WidthPerGroup)
{
    /// <summary>Channel expansion of the block kind (1 basic, 4 bottleneck).</summary>
    public int Expansion => Block == ResNetBlock.Basic ? 1 : 4;

    /// <summary>Channels of the teacher's layer1..layer3 (64, 128, 256 times the expansion), which the decoder mirrors.</summary>
    public IReadOnlyList<int> LayerChannels => [64 * Expansion, 128 * Expansion, 256 * Expansion];

    /// <summary>The mirror of a registered backbone; a backbone without one is refused with an error naming it.</summary>
    public static ReverseDistillationArchitecture For(string backbone) => backbone.ToLowerInvariant() switch
    {
        "resnet18" => new("resnet18", ResNetBlock.Basic, 2, [2, 2, 2], 64),
        "wide_resnet50_2" => new("wide_resnet50_2", ResNetBlock.Bottleneck, 3, [3, 4, 6], 128),
        _ => throw new FarmException(
            $"rd4ad has no decoder mirroring backbone '{backbone}'; supported: resnet18, wide_resnet50_2", field: "backbone"),
    };
}
