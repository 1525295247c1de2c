using Farm.Engine.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.ReverseDistillation;

/// <summary>
/// RD4AD's student: a ResNet run in reverse from the one-class embedding (the authors' "de_resnet"). Each of its three
/// layers doubles the grid in its first block with 2×2 stride-2 transposed convolutions (on the main path and on the
/// shortcut, which also adapts the channels) and halves the planes (256, 128, 64, times the block expansion), so that
/// layer1, layer2 and layer3 reproduce the teacher's layer3, layer2 and layer1. Field names are the authors'
/// (layer1.N.conv1, …, layer1.0.upsample.0/1).
/// </summary>
internal sealed class ReverseDecoder : nn.Module<Tensor, Tensor[]>
{
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;

    public ReverseDecoder(ReverseDistillationArchitecture architecture, int inputChannels) : base(nameof(ReverseDecoder))
    {
        var inChannels = inputChannels;
        var layers = new Sequential[3];
        for (var i = 0; i < 3; i++)
        {
            var planes = 256 >> i;
            var outChannels = planes * architecture.Expansion;
            var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
            for (var b = 0; b < architecture.DecoderBlocks[i]; b++)
            {
                var upsample = b == 0
                    ? nn.Sequential(
                        ("0", nn.ConvTranspose2d(inChannels, outChannels, 2, stride: 2, bias: false)),
                        ("1", nn.BatchNorm2d(outChannels)))
                    : null;
                nn.Module<Tensor, Tensor> block = architecture.Block == ResNetBlock.Basic
                    ? new DecoderBasicBlock(inChannels, planes, upsample)
                    : new DecoderBottleneck(inChannels, planes, upsample, architecture.WidthPerGroup);
                blocks.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture), block));
                inChannels = outChannels;
            }

            layers[i] = nn.Sequential(blocks);
        }

        (layer1, layer2, layer3) = (layers[0], layers[1], layers[2]);
        RegisterComponents();
    }

    /// <summary>The reconstructions of the teacher's [layer1, layer2, layer3] (finest first, as the teacher's taps).</summary>
    public override Tensor[] forward(Tensor embedding)
    {
        using var scope = NewDisposeScope();
        var deepest = layer1.forward(embedding);
        var middle = layer2.forward(deepest);
        var finest = layer3.forward(middle);
        return [finest.MoveToOuterDisposeScope(), middle.MoveToOuterDisposeScope(), deepest.MoveToOuterDisposeScope()];
    }
}

/// <summary>The decoder's basic block: a 2×2 stride-2 transposed convolution replaces the first 3×3 when it upsamples.</summary>
internal sealed class DecoderBasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? upsample;

    /// <param name="inChannels">Input channels.</param>
    /// <param name="planes">Output channels.</param>
    /// <param name="upsample">The shortcut of an upsampling (first) block, null for an identity shortcut.</param>
    public DecoderBasicBlock(int inChannels, int planes, Sequential? upsample) : base(nameof(DecoderBasicBlock))
    {
        conv1 = upsample is null
            ? nn.Conv2d(inChannels, planes, 3, padding: 1, bias: false)
            : nn.ConvTranspose2d(inChannels, planes, 2, stride: 2, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        this.upsample = upsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = bn1.forward(conv1.forward(input)).relu_();
        output = bn2.forward(conv2.forward(output));
        var identity = upsample is null ? input : upsample.forward(input);
        return output.add_(identity).relu_().MoveToOuterDisposeScope();
    }
}

/// <summary>The decoder's bottleneck block (1×1 → 3×3 or 2×2 stride-2 transposed → 1×1, expansion 4).</summary>
internal sealed class DecoderBottleneck : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential? upsample;

    /// <param name="inChannels">Input channels.</param>
    /// <param name="planes">Planes; the output has 4 × planes channels.</param>
    /// <param name="upsample">The shortcut of an upsampling (first) block, null for an identity shortcut.</param>
    /// <param name="widthPerGroup">torchvision's width_per_group: the inner width is planes · widthPerGroup / 64.</param>
    public DecoderBottleneck(int inChannels, int planes, Sequential? upsample, int widthPerGroup) : base(nameof(DecoderBottleneck))
    {
        var width = planes * widthPerGroup / 64;
        conv1 = nn.Conv2d(inChannels, width, 1, bias: false);
        bn1 = nn.BatchNorm2d(width);
        conv2 = upsample is null
            ? nn.Conv2d(width, width, 3, padding: 1, bias: false)
            : nn.ConvTranspose2d(width, width, 2, stride: 2, bias: false);
        bn2 = nn.BatchNorm2d(width);
        conv3 = nn.Conv2d(width, planes * 4, 1, bias: false);
        bn3 = nn.BatchNorm2d(planes * 4);
        this.upsample = upsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = bn1.forward(conv1.forward(input)).relu_();
        output = bn2.forward(conv2.forward(output)).relu_();
        output = bn3.forward(conv3.forward(output));
        var identity = upsample is null ? input : upsample.forward(input);
        return output.add_(identity).relu_().MoveToOuterDisposeScope();
    }
}
