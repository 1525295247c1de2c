using Farm.Engine.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.ReverseDistillation;

/// <summary>
/// RD4AD's one-class bottleneck embedding (OCBE): multi-scale feature fusion brings the teacher's layer1 and layer2
/// features to layer3's grid (layer1: two strided 3×3 convolutions, layer2: one; each followed by batch norm and ReLU),
/// concatenates them with layer3, and a ResNet stage of the teacher's block kind (stride 2, 512 planes, a 1×1 strided
/// projection shortcut on its first block) compresses the result into the compact embedding the decoder starts from.
/// Field names follow the authors' <c>BN_layer</c> (conv1/bn1, conv2/bn2, conv3/bn3, bn_layer.N.*) so that state-dict
/// keys match theirs; their unused conv4/bn4 are left out (they never receive a gradient).
/// </summary>
internal sealed class OneClassBottleneck : nn.Module<Tensor[], Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential bn_layer;

    public OneClassBottleneck(ReverseDistillationArchitecture architecture) : base(nameof(OneClassBottleneck))
    {
        var (c1, c2, c3) = (architecture.LayerChannels[0], architecture.LayerChannels[1], architecture.LayerChannels[2]);
        conv1 = nn.Conv2d(c1, c2, 3, stride: 2, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(c2);
        conv2 = nn.Conv2d(c2, c3, 3, stride: 2, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(c3);
        conv3 = nn.Conv2d(c2, c3, 3, stride: 2, padding: 1, bias: false);
        bn3 = nn.BatchNorm2d(c3);

        var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
        var inChannels = 3 * c3;
        for (var b = 0; b < architecture.BottleneckBlocks; b++)
        {
            var stride = b == 0 ? 2 : 1;
            nn.Module<Tensor, Tensor> block = architecture.Block == ResNetBlock.Basic
                ? new BasicBlock(inChannels, 512, stride)
                : new BottleneckBlock(inChannels, 512, stride, architecture.WidthPerGroup);
            blocks.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture), block));
            inChannels = 512 * architecture.Expansion;
        }

        bn_layer = nn.Sequential(blocks);
        OutputChannels = inChannels;
        RegisterComponents();
    }

    /// <summary>Channels of the embedding (512 times the expansion).</summary>
    public int OutputChannels { get; }

    /// <summary>The embedding [B, 512·e, h3/2, w3/2] of the teacher's [layer1, layer2, layer3] features.</summary>
    public override Tensor forward(Tensor[] features)
    {
        if (features.Length != 3)
        {
            throw new ArgumentException($"expected the teacher's layer1-3 features, got {features.Length} maps", nameof(features));
        }

        using var scope = NewDisposeScope();
        var fromLayer1 = bn2.forward(conv2.forward(bn1.forward(conv1.forward(features[0])).relu_())).relu_();
        var fromLayer2 = bn3.forward(conv3.forward(features[1])).relu_();
        var fused = cat([fromLayer1, fromLayer2, features[2]], 1);
        return bn_layer.forward(fused).contiguous().MoveToOuterDisposeScope();
    }
}
