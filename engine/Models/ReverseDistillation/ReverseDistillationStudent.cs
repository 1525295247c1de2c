using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.ReverseDistillation;

/// <summary>
/// Everything RD4AD trains: the one-class bottleneck embedding and the reverse decoder (state-dict keys
/// <c>bottleneck.*</c> and <c>decoder.*</c>). Initialised as the authors' code does, from a private generator:
/// convolutions kaiming-normal (fan_out, ReLU gain), batch norms weight 1 and bias 0, and transposed convolutions with
/// PyTorch's default (kaiming-uniform with a = √5, i.e. U(−1/√fan_in, 1/√fan_in), where a transposed convolution's
/// fan_in is out_channels · kh · kw), because the authors' kaiming loop matches nn.Conv2d only.
/// </summary>
public sealed class ReverseDistillationStudent : nn.Module<Tensor[], Tensor[]>
{
    private readonly OneClassBottleneck bottleneck;
    private readonly ReverseDecoder decoder;

    /// <param name="architecture">The teacher's mirror.</param>
    /// <param name="generator">The initialisation stream (the caller owns it).</param>
    public ReverseDistillationStudent(ReverseDistillationArchitecture architecture, Generator generator)
        : base(nameof(ReverseDistillationStudent))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(generator);
        Architecture = architecture;
        bottleneck = new OneClassBottleneck(architecture);
        decoder = new ReverseDecoder(architecture, bottleneck.OutputChannels);
        RegisterComponents();
        Initialise(generator);
    }

    public ReverseDistillationArchitecture Architecture { get; }

    /// <summary>The student's features [layer1, layer2, layer3] reconstructed from the teacher's, same shapes.</summary>
    public override Tensor[] forward(Tensor[] teacherFeatures)
    {
        using var scope = NewDisposeScope();
        var embedding = bottleneck.forward(teacherFeatures);
        return [.. decoder.forward(embedding).Select(feature => feature.MoveToOuterDisposeScope())];
    }

    private void Initialise(Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    var weight = conv.weight!;
                    var fanOut = weight.shape[0] * weight.shape[2] * weight.shape[3];
                    // Tensor.normal_ honours the generator; TorchSharp 0.107's nn.init.* ignore it.
                    weight.normal_(0.0, Math.Sqrt(2.0 / fanOut), generator);
                    break;
                case ConvTranspose2d deconv:
                    var kernel = deconv.weight!;
                    var bound = 1.0 / Math.Sqrt(kernel.shape[1] * kernel.shape[2] * kernel.shape[3]);
                    kernel.uniform_(-bound, bound, generator);
                    break;
                case BatchNorm2d norm:
                    norm.weight!.fill_(1.0);
                    norm.bias!.zero_();
                    break;
            }
        }
    }
}
