using Farm.Engine.Models.Components.Flows;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.FastFlow;

/// <summary>
/// The trained part of FastFlow (Yu et al., 2021), as anomalib builds it for CNN backbones: per feature level a
/// trainable LayerNorm over [C, H, W] and a 2-D flow of <c>flowSteps</c> <see cref="AllInOneCoupling"/> blocks whose
/// subnets are conv(k) → ReLU → conv(k) with k = 3, or k alternating 3, 1, 3, 1 … unless <c>conv3x3Only</c>
/// (hidden channels = ⌊passive channels · hiddenRatio⌋, "same" zero padding). The frozen backbone stays with
/// <see cref="FastFlowDetector"/>. State-dict keys: <c>norms.{l}.weight|bias</c>, <c>flows.{l}.blocks.{k}.*</c> with the
/// subnet's convolutions at <c>subnet.0</c> and <c>subnet.2</c>.
/// </summary>
public sealed class FastFlowModel : nn.Module
{
    private readonly ModuleList<LayerNorm> norms;
    private readonly ModuleList<CouplingFlow> flows;

    /// <param name="levels">Channels and side length of each feature level (layer1..layer3 of a ResNet).</param>
    /// <param name="flowSteps">Coupling blocks per level.</param>
    /// <param name="conv3x3Only">Every subnet 3×3 (otherwise odd steps use 1×1 convolutions).</param>
    /// <param name="hiddenRatio">Hidden channels of a subnet relative to its input channels.</param>
    /// <param name="clamp">Soft-clamping bound α of the coupling log scales.</param>
    /// <param name="generator">Draws every permutation and initial subnet weight, level by level, block by block.</param>
    public FastFlowModel(
        IReadOnlyList<(int Channels, int Size)> levels,
        int flowSteps,
        bool conv3x3Only,
        double hiddenRatio,
        double clamp,
        Generator generator)
        : base("FastFlow")
    {
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentOutOfRangeException.ThrowIfLessThan(flowSteps, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenRatio);
        Levels = levels;
        norms = nn.ModuleList(levels.Select(level => nn.LayerNorm([level.Channels, level.Size, level.Size])).ToArray());
        flows = nn.ModuleList(levels.Select(level => new CouplingFlow(Enumerable.Range(0, flowSteps).Select(step =>
        {
            var kernel = step % 2 == 1 && !conv3x3Only ? 1 : 3;
            return new AllInOneCoupling(level.Channels, spatialRank: 2, conditionChannels: 0,
                (input, output) => Subnet(input, output, kernel, hiddenRatio), clamp, generator);
        }).ToList())).ToArray());
        RegisterComponents();
    }

    public IReadOnlyList<(int Channels, int Size)> Levels { get; }

    /// <summary>Latents z [B, C, H, W] and log |det J| [B] per level, from the backbone's features of each level.</summary>
    public (Tensor[] Latents, Tensor[] LogDeterminants) Forward(IReadOnlyList<Tensor> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Count != Levels.Count)
        {
            throw new ArgumentException($"expected {Levels.Count} feature levels, got {features.Count}", nameof(features));
        }

        var latents = new Tensor[features.Count];
        var logDeterminants = new Tensor[features.Count];
        for (var level = 0; level < features.Count; level++)
        {
            (latents[level], logDeterminants[level]) = flows[level].Forward(norms[level].call(features[level]));
        }

        return (latents, logDeterminants);
    }

    /// <summary>anomalib's FastflowLoss: Σ over levels of the batch mean of 0.5 · Σ z² − log |det J|.</summary>
    public static Tensor Loss(IReadOnlyList<Tensor> latents, IReadOnlyList<Tensor> logDeterminants)
    {
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(logDeterminants);
        using var scope = NewDisposeScope();
        Tensor? total = null;
        for (var level = 0; level < latents.Count; level++)
        {
            var term = ((latents[level].square().sum([1, 2, 3]) * 0.5) - logDeterminants[level]).mean();
            total = total is null ? term : total + term;
        }

        return total!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// anomalib's map: per level −exp(−0.5 · mean over channels of z²) (the negated per-position likelihood),
    /// upsampled bilinearly (align_corners false) to S × S, averaged over levels: [B, 1, S, S], in [−1, 0].
    /// </summary>
    public static Tensor AnomalyMap(IReadOnlyList<Tensor> latents, int imageSize)
    {
        ArgumentNullException.ThrowIfNull(latents);
        using var scope = NewDisposeScope();
        var maps = latents.Select(latent =>
        {
            var probability = (latent.square().mean([1], keepdim: true) * -0.5).exp();
            return nn.functional.interpolate(-probability, [imageSize, imageSize], mode: InterpolationMode.Bilinear, align_corners: false);
        }).ToList();
        return stack(maps, -1).mean([-1]).MoveToOuterDisposeScope();
    }

    private static Sequential Subnet(int input, int output, int kernel, double hiddenRatio)
    {
        var hidden = (int)(input * hiddenRatio);
        if (hidden < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(hiddenRatio), hiddenRatio, $"leaves no hidden channels for {input} inputs");
        }

        return nn.Sequential(
            ("0", nn.Conv2d(input, hidden, kernel, padding: kernel / 2)),
            ("1", nn.ReLU()),
            ("2", nn.Conv2d(hidden, output, kernel, padding: kernel / 2)));
    }
}
