using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Backbones;

/// <summary>The residual block kinds of torchvision's ResNet family.</summary>
public enum ResNetBlock
{
    /// <summary>Two 3×3 convolutions, expansion 1 (ResNet-18/34).</summary>
    Basic,

    /// <summary>1×1 → 3×3 → 1×1 convolutions, expansion 4 (ResNet-50+, Wide-ResNets).</summary>
    Bottleneck,
}

/// <summary>
/// torchvision's ResNet (v1.5: the stride sits on the 3×3 convolution of a bottleneck) without the pooling head and
/// classifier. Field names equal torchvision's so that state-dict keys match (conv1, bn1, layer1.0.conv1,
/// layer1.0.downsample.0, …). Initialised like torchvision (kaiming-normal fan_out/relu convolutions, batch-norm
/// weight 1 and bias 0) from a private generator, then put in eval mode.
/// </summary>
public sealed class ResNet : FeatureBackbone
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly int[] layerChannels;

    /// <param name="architecture">The registry name.</param>
    /// <param name="block">The block kind.</param>
    /// <param name="blocksPerLayer">Blocks in layer1..layer4, e.g. [2, 2, 2, 2] for ResNet-18.</param>
    /// <param name="widthPerGroup">torchvision's width_per_group: 64 normally, 128 for the "_2" wide ResNets.</param>
    /// <param name="seed">Seed of the initialisation generator.</param>
    public ResNet(string architecture, ResNetBlock block, IReadOnlyList<int> blocksPerLayer, int widthPerGroup, long seed)
        : base(architecture)
    {
        if (blocksPerLayer.Count != 4 || blocksPerLayer.Any(count => count < 1))
        {
            throw new ArgumentException("a ResNet has four layers of at least one block each", nameof(blocksPerLayer));
        }

        Architecture = architecture;
        var expansion = block == ResNetBlock.Basic ? 1 : 4;
        conv1 = nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(64);
        maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);

        var inChannels = 64;
        var layers = new Sequential[4];
        layerChannels = new int[4];
        for (var i = 0; i < 4; i++)
        {
            var planes = 64 << i;
            var stride = i == 0 ? 1 : 2;
            var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
            for (var b = 0; b < blocksPerLayer[i]; b++)
            {
                var blockStride = b == 0 ? stride : 1;
                nn.Module<Tensor, Tensor> module = block == ResNetBlock.Basic
                    ? new BasicBlock(inChannels, planes, blockStride)
                    : new BottleneckBlock(inChannels, planes, blockStride, widthPerGroup);
                blocks.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture), module));
                inChannels = planes * expansion;
            }

            layers[i] = nn.Sequential(blocks);
            layerChannels[i] = inChannels;
        }

        (layer1, layer2, layer3, layer4) = (layers[0], layers[1], layers[2], layers[3]);
        RegisterComponents();
        Initialise(seed);
        eval();
    }

    public override string Architecture { get; }

    public override IReadOnlyList<int> LayerChannels => layerChannels;

    public override IReadOnlyList<int> LayerStrides { get; } = [4, 8, 16, 32];

    public static ResNet ResNet18(long seed) => new("resnet18", ResNetBlock.Basic, [2, 2, 2, 2], 64, seed);

    public static ResNet WideResNet50x2(long seed) =>
        new("wide_resnet50_2", ResNetBlock.Bottleneck, [3, 4, 6, 3], 128, seed);

    public override int LayerSize(int layer, int inputSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layer, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layer, 4);
        // Stem: 7×7 stride-2 conv (padding 3), then 3×3 stride-2 max pool (padding 1); layers 2-4 each halve with a
        // stride-2 3×3 conv (padding 1), whose output size the 1×1 stride-2 shortcut shares.
        var size = ((inputSize + 6 - 7) / 2) + 1;
        size = ((size + 2 - 3) / 2) + 1;
        for (var i = 2; i <= layer; i++)
        {
            size = ((size + 2 - 3) / 2) + 1;
        }

        return size;
    }

    /// <summary>The deepest layer's features (layer4), like torchvision's trunk before pooling.</summary>
    public override Tensor forward(Tensor input) => Features(input, [4])[0];

    public override Tensor[] Features(Tensor input, IReadOnlyList<int> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0 || layers.Any(layer => layer is < 1 or > 4) || layers.Distinct().Count() != layers.Count)
        {
            throw new ArgumentException("layers must be distinct numbers 1..4", nameof(layers));
        }

        if (training)
        {
            throw new InvalidOperationException("the backbone must stay in eval mode (batch norm uses running statistics)");
        }

        var deepest = layers.Max();
        var stages = new[] { layer1, layer2, layer3, layer4 };
        var taps = new Tensor?[4];
        using var scope = NewDisposeScope();
        var current = maxpool.forward(bn1.forward(conv1.forward(input)).relu_());
        for (var i = 0; i < deepest; i++)
        {
            var next = stages[i].forward(current);
            // Free what no caller asked for as soon as the next stage has consumed it.
            if (!layers.Contains(i))
            {
                current.Dispose();
            }

            current = next;
            if (layers.Contains(i + 1))
            {
                taps[i] = current;
            }
        }

        return layers.Select(layer => taps[layer - 1]!.MoveToOuterDisposeScope()).ToArray();
    }

    private void Initialise(long seed)
    {
        using var generator = new Generator(unchecked((ulong)seed));
        using var noGrad = no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (out · kh · kw)).
                    var weight = conv.weight!;
                    var fanOut = weight.shape[0] * weight.shape[2] * weight.shape[3];
                    // Tensor.normal_ honours the generator; TorchSharp 0.107's nn.init.normal_ ignores it.
                    weight.normal_(0.0, Math.Sqrt(2.0 / fanOut), generator);
                    break;
                case BatchNorm2d norm:
                    nn.init.ones_(norm.weight!);
                    nn.init.zeros_(norm.bias!);
                    break;
            }
        }
    }
}

/// <summary>torchvision's BasicBlock (field names are state-dict keys).</summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    public BasicBlock(int inChannels, int planes, int stride) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(inChannels, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        downsample = Downsample.IfNeeded(inChannels, planes, stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        // A scope per block frees the block's intermediates at once, which bounds peak memory on deep nets.
        using var scope = NewDisposeScope();
        var output = bn1.forward(conv1.forward(input)).relu_();
        output = bn2.forward(conv2.forward(output));
        var identity = downsample is null ? input : downsample.forward(input);
        return output.add_(identity).relu_().MoveToOuterDisposeScope();
    }
}

/// <summary>torchvision's Bottleneck (v1.5, stride on conv2; width = planes · widthPerGroup / 64).</summary>
internal sealed class BottleneckBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential? downsample;

    public BottleneckBlock(int inChannels, int planes, int stride, int widthPerGroup) : base("Bottleneck")
    {
        var width = planes * widthPerGroup / 64;
        conv1 = nn.Conv2d(inChannels, width, 1, bias: false);
        bn1 = nn.BatchNorm2d(width);
        conv2 = nn.Conv2d(width, width, 3, stride: stride, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(width);
        conv3 = nn.Conv2d(width, planes * 4, 1, bias: false);
        bn3 = nn.BatchNorm2d(planes * 4);
        downsample = Downsample.IfNeeded(inChannels, planes * 4, stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = bn1.forward(conv1.forward(input)).relu_();
        output = bn2.forward(conv2.forward(output)).relu_();
        output = bn3.forward(conv3.forward(output));
        var identity = downsample is null ? input : downsample.forward(input);
        return output.add_(identity).relu_().MoveToOuterDisposeScope();
    }
}

internal static class Downsample
{
    /// <summary>The 1×1 projection shortcut ("downsample.0" conv, "downsample.1" batch norm) when shapes change.</summary>
    public static Sequential? IfNeeded(int inChannels, int outChannels, int stride) =>
        stride == 1 && inChannels == outChannels
            ? null
            : nn.Sequential(
                ("0", nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false)),
                ("1", nn.BatchNorm2d(outChannels)));
}
