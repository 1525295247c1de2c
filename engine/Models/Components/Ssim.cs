using static TorchSharp.torch;

namespace Farm.Engine.Models.Components;

/// <summary>
/// Structural similarity (Wang et al., 2004) as DRAEM's loss computes it: an 11 × 11 Gaussian window (σ = 1.5,
/// normalised), applied per channel with zero padding of 5 (so border windows see zeros), local means μ, variances σ²
/// and covariance σ₁₂ from E[xy] − μₓμᵧ, constants C1 = (0.01 L)² and C2 = (0.03 L)² for the data range L, and
/// SSIM = (2μ₁μ₂ + C1)(2σ₁₂ + C2) / ((μ₁² + μ₂² + C1)(σ₁² + σ₂² + C2)) per pixel, averaged over everything.
/// DRAEM's reconstruction loss adds 1 − SSIM. L is 1 for images in [0, 1] (the official code guesses it from the
/// first image's values; Farm fixes it).
/// </summary>
public static class Ssim
{
    public const int WindowSize = 11;

    public const double Sigma = 1.5;

    /// <summary>The per-pixel SSIM map [B, C, H, W] of two images [B, C, H, W].</summary>
    public static Tensor Map(Tensor first, Tensor second, double dataRange = 1.0)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.dim() != 4 || !first.shape.SequenceEqual(second.shape))
        {
            throw new ArgumentException(
                $"SSIM needs two images of one shape [B, C, H, W], got [{string.Join(", ", first.shape)}] and [{string.Join(", ", second.shape)}]");
        }

        using var scope = NewDisposeScope();
        var channels = first.shape[1];
        var window = Window(channels, first.dtype, first.device);
        Tensor Local(Tensor image) => nn.functional.conv2d(image, window, padding: [WindowSize / 2, WindowSize / 2], groups: channels);
        var (mu1, mu2) = (Local(first), Local(second));
        var (mu1Sq, mu2Sq, mu12) = (mu1 * mu1, mu2 * mu2, mu1 * mu2);
        var sigma1Sq = Local(first * first) - mu1Sq;
        var sigma2Sq = Local(second * second) - mu2Sq;
        var sigma12 = Local(first * second) - mu12;
        var c1 = Math.Pow(0.01 * dataRange, 2);
        var c2 = Math.Pow(0.03 * dataRange, 2);
        var map = ((2 * mu12) + c1) * ((2 * sigma12) + c2) / ((mu1Sq + mu2Sq + c1) * (sigma1Sq + sigma2Sq + c2));
        return map.MoveToOuterDisposeScope();
    }

    /// <summary>Mean SSIM over the batch, channels and pixels (a scalar).</summary>
    public static Tensor Mean(Tensor first, Tensor second, double dataRange = 1.0)
    {
        using var scope = NewDisposeScope();
        return Map(first, second, dataRange).mean().MoveToOuterDisposeScope();
    }

    /// <summary>DRAEM's SSIM loss: 1 − mean SSIM.</summary>
    public static Tensor Loss(Tensor first, Tensor second, double dataRange = 1.0)
    {
        using var scope = NewDisposeScope();
        return (1 - Mean(first, second, dataRange)).MoveToOuterDisposeScope();
    }

    /// <summary>The normalised 2-D Gaussian window, one copy per channel: [C, 1, 11, 11].</summary>
    public static Tensor Window(long channels, ScalarType dtype, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var weights = GaussianBlur.Kernel1D(Sigma, WindowSize);
        var line = tensor(weights, ScalarType.Float64, device);
        var window = outer(line, line).to_type(dtype);
        return window.expand(channels, 1, WindowSize, WindowSize).contiguous().MoveToOuterDisposeScope();
    }
}
