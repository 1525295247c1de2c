using TorchSharp;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Components;

/// <summary>
/// The anomaly-map blur of PaDiM and PatchCore (protocols.md): a normalised Gaussian of standard deviation σ with
/// kernel size 2·int(4σ + 0.5) + 1 (33 for σ = 4), applied per channel, separably (rows then columns, which equals the
/// 2-D outer-product kernel up to float rounding), after reflect padding exactly as PyTorch's
/// <c>F.pad(mode="reflect")</c> (the edge pixel is not repeated). Output has the input's shape.
/// </summary>
public sealed class GaussianBlur : nn.Module<Tensor, Tensor>
{
    private readonly Tensor kernel;

    public GaussianBlur(double sigma = 4.0) : base(nameof(GaussianBlur))
    {
        if (!(sigma > 0) || double.IsInfinity(sigma))
        {
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be positive and finite");
        }

        Sigma = sigma;
        KernelSize = KernelSizeFor(sigma);
        kernel = tensor(Kernel1D(sigma, KernelSize), ScalarType.Float64);
        kernel.DetachFromDisposeScope();
        // Derived from sigma, so not part of the state dict.
        register_buffer(nameof(kernel), kernel, persistent: false);
        RegisterComponents();
    }

    public double Sigma { get; }

    public int KernelSize { get; }

    public int Padding => KernelSize / 2;

    /// <summary>2·int(4σ + 0.5) + 1, anomalib's rule (truncation as Python's int() does for positive values).</summary>
    public static int KernelSizeFor(double sigma) => (2 * (int)((4 * sigma) + 0.5)) + 1;

    /// <summary>exp(−x² / 2σ²) for x = −K/2 … K/2, normalised to sum 1, in double precision.</summary>
    public static double[] Kernel1D(double sigma, int size)
    {
        var weights = new double[size];
        var centre = size / 2;
        for (var i = 0; i < size; i++)
        {
            var x = i - centre;
            weights[i] = Math.Exp(-(x * x) / (2 * sigma * sigma));
        }

        var sum = weights.Sum();
        return weights.Select(weight => weight / sum).ToArray();
    }

    /// <summary>Blurs [B, C, H, W] (H and W must exceed the padding, as reflect padding requires).</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4)
        {
            throw new ArgumentException($"expected [B, C, H, W], got [{string.Join(", ", input.shape)}]", nameof(input));
        }

        var (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3]);
        if (height <= Padding || width <= Padding)
        {
            throw new ArgumentException(
                $"a {height}×{width} map is too small for reflect padding of {Padding} (kernel {KernelSize})", nameof(input));
        }

        using var scope = NewDisposeScope();
        var planes = input.reshape(batch * channels, 1, height, width);
        var padded = nn.functional.pad(planes, [Padding, Padding, Padding, Padding], PaddingModes.Reflect);
        var weights = kernel.to(input.dtype, input.device);
        var rows = nn.functional.conv2d(padded, weights.view(1, 1, 1, KernelSize));
        var both = nn.functional.conv2d(rows, weights.view(1, 1, KernelSize, 1));
        return both.reshape(batch, channels, height, width).MoveToOuterDisposeScope();
    }
}
