using static TorchSharp.torch;

namespace Farm.Engine.Models.Components;

/// <summary>
/// The focal loss (Lin et al., 2017) in the form DRAEM trains its segmentation with: class probabilities p [B, K, H, W]
/// (a softmax output), integer class targets [B, 1, H, W] (0/1 for DRAEM's normal/anomalous), the one-hot target
/// smoothed to [s/(K − 1), 1 − s] with s = 1e-5, pt = Σ_k onehot_k p_k + s, and loss = −(1 − pt)^γ · log pt per pixel
/// (no class weights: α = 1), averaged over pixels. γ = 2.
/// </summary>
public static class FocalLoss
{
    public const double DefaultGamma = 2.0;

    public const double DefaultSmooth = 1e-5;

    public static Tensor Compute(Tensor probabilities, Tensor target, double gamma = DefaultGamma, double smooth = DefaultSmooth)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(target);
        var classes = probabilities.shape[1];
        if (probabilities.dim() != 4 || target.dim() != 4 || target.shape[1] != 1 || classes < 2
            || target.shape[0] != probabilities.shape[0] || target.shape[2] != probabilities.shape[2] || target.shape[3] != probabilities.shape[3])
        {
            throw new ArgumentException(
                $"focal loss needs probabilities [B, K ≥ 2, H, W] and targets [B, 1, H, W], got [{string.Join(", ", probabilities.shape)}] and [{string.Join(", ", target.shape)}]");
        }

        using var scope = NewDisposeScope();
        var index = target.to_type(ScalarType.Int64).squeeze(1);
        var oneHot = nn.functional.one_hot(index, classes).permute(0, 3, 1, 2).to_type(probabilities.dtype)
            .clamp(smooth / (classes - 1), 1.0 - smooth);
        var pt = (oneHot * probabilities).sum(1) + smooth;
        return (-(1 - pt).pow(gamma) * pt.log()).mean().MoveToOuterDisposeScope();
    }
}
