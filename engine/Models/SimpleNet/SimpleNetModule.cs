using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.SimpleNet;

/// <summary>
/// Everything SimpleNet trains: the feature adaptor (one fully connected layer D → D with bias, the authors'
/// <c>pre_projection</c>) and the discriminator (D → 1024 linear, 1-D batch norm, LeakyReLU(0.2), then 1024 → 1 linear
/// without bias). State-dict keys: <c>adaptor.*</c>, <c>discriminator.hidden.*</c>, <c>discriminator.norm.*</c>,
/// <c>discriminator.tail.weight</c>. Initialised as the authors' code does, from a private generator: linear weights
/// Xavier-normal (std √(2 / (fan_in + fan_out))), linear biases PyTorch's default U(−1/√fan_in, 1/√fan_in), batch norm
/// weight 1 and bias 0.
/// </summary>
public sealed class SimpleNetModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Hidden width of the discriminator (the authors' <c>dsc_hidden</c>).</summary>
    public const int HiddenWidth = 1024;

    private readonly Linear adaptor;
    private readonly Discriminator discriminator;

    /// <param name="dimension">The patch feature dimension D.</param>
    /// <param name="generator">The initialisation stream (the caller owns it).</param>
    public SimpleNetModule(int dimension, Generator generator) : base(nameof(SimpleNetModule))
    {
        ArgumentNullException.ThrowIfNull(generator);
        adaptor = nn.Linear(dimension, dimension, hasBias: true);
        discriminator = new Discriminator(dimension, HiddenWidth);
        RegisterComponents();
        Initialise(generator);
    }

    /// <summary>The adaptor's parameters (AdamW trains them).</summary>
    public IEnumerable<Parameter> AdaptorParameters => adaptor.parameters();

    /// <summary>The discriminator's parameters (Adam trains them).</summary>
    public IEnumerable<Parameter> DiscriminatorParameters => discriminator.parameters();

    /// <summary>Adapted features [N, D] of patch features [N, D].</summary>
    public Tensor Adapt(Tensor features) => adaptor.forward(features);

    /// <summary>Discriminator scores [N] (high = normal) of adapted features [N, D].</summary>
    public Tensor Discriminate(Tensor adapted) => discriminator.forward(adapted);

    /// <summary>Scores [N] of patch features [N, D]: the discriminator on the adapted features.</summary>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        return Discriminate(Adapt(features)).MoveToOuterDisposeScope();
    }

    private void Initialise(Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case Linear linear:
                    var weight = linear.weight!;
                    var (fanOut, fanIn) = (weight.shape[0], weight.shape[1]);
                    // Tensor.normal_/uniform_ honour the generator; TorchSharp 0.107's nn.init.* ignore it.
                    weight.normal_(0.0, Math.Sqrt(2.0 / (fanIn + fanOut)), generator);
                    if (linear.bias is { } bias)
                    {
                        var bound = 1.0 / Math.Sqrt(fanIn);
                        bias.uniform_(-bound, bound, generator);
                    }

                    break;
                case BatchNorm1d norm:
                    norm.weight!.fill_(1.0);
                    norm.bias!.zero_();
                    break;
            }
        }
    }

    /// <summary>The two-layer MLP discriminator.</summary>
    private sealed class Discriminator : nn.Module<Tensor, Tensor>
    {
        private readonly Linear hidden;
        private readonly BatchNorm1d norm;
        private readonly Linear tail;

        public Discriminator(int dimension, int width) : base(nameof(Discriminator))
        {
            hidden = nn.Linear(dimension, width, hasBias: true);
            norm = nn.BatchNorm1d(width);
            tail = nn.Linear(width, 1, hasBias: false);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var activation = nn.functional.leaky_relu(norm.forward(hidden.forward(input)), 0.2);
            return tail.forward(activation).squeeze(1).MoveToOuterDisposeScope();
        }
    }
}
