using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Draem;

/// <summary>
/// DRÆM's two networks (Zavrtanik et al., ICCV 2021), as the official code builds them (VitjanZ/DRAEM, model_unet.py),
/// with its parameter names under <c>reconstructive.*</c> and <c>discriminative.*</c>:
/// <list type="bullet">
/// <item>reconstructive: an encoder of five blocks of two 3×3 convolutions with batch norm and ReLU (widths w, 2w, 4w,
/// 8w, 8w; 2×2 max pooling between them) and a decoder of four bilinear ×2 upsamplings (align_corners true), each
/// followed by a convolution and two more (widths back to w), then a 3×3 convolution to RGB: the reconstruction of a
/// [0, 1] image (w = 128);</item>
/// <item>discriminative: a U-Net on the concatenated reconstruction and input (6 channels) with six encoder blocks
/// (widths w, 2w, 4w, 8w, 8w, 8w; five poolings) and a decoder that upsamples and joins each skip connection, ending
/// in 2 channels whose softmax is (normal, anomalous) per pixel (w = 64).</item>
/// </list>
/// Initialised as the official <c>weights_init</c>: convolution weights N(0, 0.02²), batch-norm weights N(1, 0.02²) and
/// biases 0, convolution biases PyTorch's default U(±1/√fan_in), all drawn from the given generator.
/// </summary>
public sealed class DraemModel : nn.Module
{
    /// <summary>The discriminative U-Net pools five times: sizes must be multiples of 32.</summary>
    public const int SizeMultiple = 32;

    private readonly ReconstructiveSubnetwork reconstructive;
    private readonly DiscriminativeSubnetwork discriminative;

    public DraemModel(int reconstructiveWidth, int discriminativeWidth, Generator generator) : base("DRAEM")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(reconstructiveWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(discriminativeWidth, 1);
        reconstructive = new ReconstructiveSubnetwork(reconstructiveWidth);
        discriminative = new DiscriminativeSubnetwork(discriminativeWidth);
        RegisterComponents();
        Initialise(generator);
    }

    /// <summary>The parameters' dtype: float32 in the farm; the parity test runs the module in float64.</summary>
    public ScalarType DType => parameters().First().dtype;

    /// <summary>The reconstruction [B, 3, S, S] of a [0, 1] image batch.</summary>
    public Tensor Reconstruct(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var scope = NewDisposeScope();
        return reconstructive.forward(image.to_type(DType)).MoveToOuterDisposeScope();
    }

    /// <summary>Segmentation logits [B, 2, S, S] from the reconstruction and the image it was made from.</summary>
    public Tensor Segment(Tensor reconstruction, Tensor image)
    {
        ArgumentNullException.ThrowIfNull(reconstruction);
        ArgumentNullException.ThrowIfNull(image);
        using var scope = NewDisposeScope();
        return discriminative.forward(cat([reconstruction.to_type(DType), image.to_type(DType)], 1)).MoveToOuterDisposeScope();
    }

    private void Initialise(Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    var weight = conv.weight!;
                    weight.normal_(0.0, 0.02, generator);
                    var bound = 1.0 / Math.Sqrt(weight.shape[1] * weight.shape[2] * weight.shape[3]);
                    conv.bias!.uniform_(-bound, bound, generator);
                    break;
                case BatchNorm2d norm:
                    norm.weight!.normal_(1.0, 0.02, generator);
                    norm.bias!.zero_();
                    break;
            }
        }
    }

    /// <summary>Two 3×3 convolutions (in → middle → out), each with batch norm and ReLU: indices 0-5 as the official Sequential.</summary>
    internal static Sequential Block(long input, long middle, long output) => nn.Sequential(
        ("0", nn.Conv2d(input, middle, 3, padding: 1)),
        ("1", nn.BatchNorm2d(middle)),
        ("2", nn.ReLU()),
        ("3", nn.Conv2d(middle, output, 3, padding: 1)),
        ("4", nn.BatchNorm2d(output)),
        ("5", nn.ReLU()));

    /// <summary>Bilinear ×2 (align_corners true), then a 3×3 convolution with batch norm and ReLU.</summary>
    internal static Sequential Up(long input, long output) => nn.Sequential(
        ("0", nn.Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Bilinear, align_corners: true)),
        ("1", nn.Conv2d(input, output, 3, padding: 1)),
        ("2", nn.BatchNorm2d(output)),
        ("3", nn.ReLU()));

    /// <summary>The final 3×3 convolution, inside a Sequential as officially ("fin_out.0").</summary>
    internal static Sequential Out(long input, long output) => nn.Sequential(("0", nn.Conv2d(input, output, 3, padding: 1)));
}

/// <summary>The reconstructive sub-network: encoder (fields as officially: encoder.block1-5) and decoder.</summary>
internal sealed class ReconstructiveSubnetwork : nn.Module<Tensor, Tensor>
{
    private readonly ReconstructiveEncoder encoder;
    private readonly ReconstructiveDecoder decoder;

    public ReconstructiveSubnetwork(int width) : base("ReconstructiveSubNetwork")
    {
        encoder = new ReconstructiveEncoder(width);
        decoder = new ReconstructiveDecoder(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return decoder.forward(encoder.forward(input)).MoveToOuterDisposeScope();
    }
}

internal sealed class ReconstructiveEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential block1;
    private readonly Sequential block2;
    private readonly Sequential block3;
    private readonly Sequential block4;
    private readonly Sequential block5;

    public ReconstructiveEncoder(int w) : base("EncoderReconstructive")
    {
        block1 = DraemModel.Block(3, w, w);
        block2 = DraemModel.Block(w, 2 * w, 2 * w);
        block3 = DraemModel.Block(2 * w, 4 * w, 4 * w);
        block4 = DraemModel.Block(4 * w, 8 * w, 8 * w);
        block5 = DraemModel.Block(8 * w, 8 * w, 8 * w);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = block1.forward(input);
        foreach (var block in new[] { block2, block3, block4, block5 })
        {
            x = block.forward(nn.functional.max_pool2d(x, 2));
        }

        return x.MoveToOuterDisposeScope();
    }
}

internal sealed class ReconstructiveDecoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential up1;
    private readonly Sequential db1;
    private readonly Sequential up2;
    private readonly Sequential db2;
    private readonly Sequential up3;
    private readonly Sequential db3;
    private readonly Sequential up4;
    private readonly Sequential db4;
    private readonly Sequential fin_out;

    public ReconstructiveDecoder(int w) : base("DecoderReconstructive")
    {
        up1 = DraemModel.Up(8 * w, 8 * w);
        db1 = DraemModel.Block(8 * w, 8 * w, 4 * w);
        up2 = DraemModel.Up(4 * w, 4 * w);
        db2 = DraemModel.Block(4 * w, 4 * w, 2 * w);
        up3 = DraemModel.Up(2 * w, 2 * w);
        db3 = DraemModel.Block(2 * w, 2 * w, w);
        up4 = DraemModel.Up(w, w);
        db4 = DraemModel.Block(w, w, w);
        fin_out = DraemModel.Out(w, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = db1.forward(up1.forward(input));
        x = db2.forward(up2.forward(x));
        x = db3.forward(up3.forward(x));
        x = db4.forward(up4.forward(x));
        return fin_out.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>The discriminative U-Net (fields as officially: encoder_segment.block1-6, decoder_segment.*).</summary>
internal sealed class DiscriminativeSubnetwork : nn.Module<Tensor, Tensor>
{
    private readonly DiscriminativeEncoder encoder_segment;
    private readonly DiscriminativeDecoder decoder_segment;

    public DiscriminativeSubnetwork(int width) : base("DiscriminativeSubNetwork")
    {
        encoder_segment = new DiscriminativeEncoder(width);
        decoder_segment = new DiscriminativeDecoder(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return decoder_segment.forward(encoder_segment.Encode(input)).MoveToOuterDisposeScope();
    }
}

internal sealed class DiscriminativeEncoder : nn.Module
{
    private readonly Sequential block1;
    private readonly Sequential block2;
    private readonly Sequential block3;
    private readonly Sequential block4;
    private readonly Sequential block5;
    private readonly Sequential block6;

    public DiscriminativeEncoder(int w) : base("EncoderDiscriminative")
    {
        block1 = DraemModel.Block(6, w, w);
        block2 = DraemModel.Block(w, 2 * w, 2 * w);
        block3 = DraemModel.Block(2 * w, 4 * w, 4 * w);
        block4 = DraemModel.Block(4 * w, 8 * w, 8 * w);
        block5 = DraemModel.Block(8 * w, 8 * w, 8 * w);
        block6 = DraemModel.Block(8 * w, 8 * w, 8 * w);
        RegisterComponents();
    }

    /// <summary>The six block outputs, finest first (the skip connections).</summary>
    public Tensor[] Encode(Tensor input)
    {
        var outputs = new Tensor[6];
        outputs[0] = block1.forward(input);
        var blocks = new[] { block2, block3, block4, block5, block6 };
        for (var i = 0; i < blocks.Length; i++)
        {
            outputs[i + 1] = blocks[i].forward(nn.functional.max_pool2d(outputs[i], 2));
        }

        return outputs;
    }
}

internal sealed class DiscriminativeDecoder : nn.Module<Tensor[], Tensor>
{
    private readonly Sequential up_b;
    private readonly Sequential db_b;
    private readonly Sequential up1;
    private readonly Sequential db1;
    private readonly Sequential up2;
    private readonly Sequential db2;
    private readonly Sequential up3;
    private readonly Sequential db3;
    private readonly Sequential up4;
    private readonly Sequential db4;
    private readonly Sequential fin_out;

    public DiscriminativeDecoder(int w) : base("DecoderDiscriminative")
    {
        up_b = DraemModel.Up(8 * w, 8 * w);
        db_b = DraemModel.Block(16 * w, 8 * w, 8 * w);
        up1 = DraemModel.Up(8 * w, 4 * w);
        db1 = DraemModel.Block(12 * w, 4 * w, 4 * w);
        up2 = DraemModel.Up(4 * w, 2 * w);
        db2 = DraemModel.Block(6 * w, 2 * w, 2 * w);
        up3 = DraemModel.Up(2 * w, w);
        db3 = DraemModel.Block(3 * w, w, w);
        up4 = DraemModel.Up(w, w);
        db4 = DraemModel.Block(2 * w, w, w);
        fin_out = DraemModel.Out(w, 2);
        RegisterComponents();
    }

    /// <param name="skips">b1 … b6 of the encoder, finest first.</param>
    public override Tensor forward(Tensor[] skips)
    {
        using var scope = NewDisposeScope();
        var x = db_b.forward(cat([up_b.forward(skips[5]), skips[4]], 1));
        x = db1.forward(cat([up1.forward(x), skips[3]], 1));
        x = db2.forward(cat([up2.forward(x), skips[2]], 1));
        x = db3.forward(cat([up3.forward(x), skips[1]], 1));
        x = db4.forward(cat([up4.forward(x), skips[0]], 1));
        return fin_out.forward(x).MoveToOuterDisposeScope();
    }
}
