using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Components.Flows;

/// <summary>
/// One coupling block of a normalizing flow as FrEIA's <c>AllInOneBlock</c> computes it (the block anomalib's FastFlow
/// and CFLOW stack), with hard permutations and the softplus global scaling:
/// <list type="number">
/// <item>split the C channels into x₁ (the first C − ⌊C/2⌋) and x₂ (the last ⌊C/2⌋);</item>
/// <item>a = 0.1 · subnet([x₁, condition]) (2·⌊C/2⌋ channels); s = α · tanh(a[:⌊C/2⌋]), t = a[⌊C/2⌋:];</item>
/// <item>y₂ = x₂ · exp(s) + t (soft-clamped affine coupling: |s| ≤ α);</item>
/// <item>y = P((x₁, y₂) · γ + β), γ = 0.1 · softplus_{β=0.5}(global_scale) per channel (1 at initialisation),
/// β = global_offset, P a fixed channel permutation (output channel i = input channel permutation[i]).</item>
/// </list>
/// log |det J| = Σ s + (elements per channel) · Σ_c log γ_c. Works on vectors [N, C] (fully connected subnets, CFLOW)
/// and on feature maps [N, C, H, W] (convolutional subnets, FastFlow); the condition, if any, has the input's shape
/// apart from its channel count. State-dict keys: <c>global_scale</c>, <c>global_offset</c>, <c>permutation</c>
/// (int64 buffer), <c>subnet.*</c>.
/// </summary>
public sealed class AllInOneCoupling : nn.Module
{
    /// <summary>FrEIA's default soft-clamping bound α.</summary>
    public const double DefaultClamp = 2.0;

    private readonly nn.Module<Tensor, Tensor> subnet;
    private readonly Parameter global_scale;
    private readonly Parameter global_offset;
    private readonly Tensor permutation;
    private readonly long[] sumDimensions;

    /// <param name="channels">Channels C of the input.</param>
    /// <param name="spatialRank">Non-channel dimensions of one sample: 0 for vectors, 2 for feature maps.</param>
    /// <param name="conditionChannels">Channels of the condition concatenated to x₁ (0 for none).</param>
    /// <param name="subnetFactory">Builds the subnet from (input channels, output channels); it is initialised here.</param>
    /// <param name="clamp">Soft-clamping bound α of the log scale.</param>
    /// <param name="generator">Draws the permutation, then the subnet's initial weights (in that order).</param>
    public AllInOneCoupling(
        int channels,
        int spatialRank,
        int conditionChannels,
        Func<int, int, nn.Module<Tensor, Tensor>> subnetFactory,
        double clamp,
        Generator generator)
        : base(nameof(AllInOneCoupling))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(conditionChannels);
        ArgumentNullException.ThrowIfNull(subnetFactory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clamp);
        if (spatialRank is not (0 or 1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(spatialRank), spatialRank, "must be 0 (vectors), 1 or 2");
        }

        Channels = channels;
        ConditionChannels = conditionChannels;
        Clamp = clamp;
        PassiveChannels = channels - (channels / 2);
        ActiveChannels = channels / 2;
        sumDimensions = Enumerable.Range(1, spatialRank + 1).Select(dimension => (long)dimension).ToArray();

        var parameterShape = new long[] { 1, channels }.Concat(Enumerable.Repeat(1L, spatialRank)).ToArray();
        // softplus_{β=0.5}(2·ln(e⁵ − 1)) = 10, so that γ = 0.1 · 10 = 1 at initialisation (FrEIA's global_affine_init 1).
        global_scale = FlowInitialisation.NewParameter(full(parameterShape, 2.0 * Math.Log(Math.Exp(5.0) - 1.0), ScalarType.Float32));
        global_offset = FlowInitialisation.NewParameter(zeros(parameterShape, ScalarType.Float32));
        permutation = randperm(channels, generator: generator).DetachFromDisposeScope();
        subnet = subnetFactory(PassiveChannels + conditionChannels, 2 * ActiveChannels);
        FlowInitialisation.TorchDefault(subnet, generator);
        RegisterComponents();
    }

    public int Channels { get; }

    public int ConditionChannels { get; }

    public double Clamp { get; }

    /// <summary>Channels x₁ that pass through the coupling unchanged and feed the subnet.</summary>
    public int PassiveChannels { get; }

    /// <summary>Channels x₂ that the coupling scales and shifts.</summary>
    public int ActiveChannels { get; }

    /// <summary>The permutation applied last: output channel i is channel <c>Permutation[i]</c> of the scaled input.</summary>
    public Tensor Permutation => permutation;

    /// <summary>y and log |det ∂y/∂x| per sample [N].</summary>
    public (Tensor Output, Tensor LogDeterminant) Forward(Tensor input, Tensor? condition = null)
    {
        RequireShapes(input, condition);
        using var scope = NewDisposeScope();
        var passive = input.narrow(1, 0, PassiveChannels);
        var active = input.narrow(1, PassiveChannels, ActiveChannels);
        var (logScale, shift) = Coefficients(passive, condition);
        var coupled = cat([passive, active * logScale.exp() + shift], 1);
        var (globalScale, logGlobalScale) = GlobalScale();
        var output = (coupled * globalScale + global_offset).index_select(1, permutation);
        var logDeterminant = logScale.sum(sumDimensions) + (ElementsPerChannel(input) * logGlobalScale.sum());
        return (output.MoveToOuterDisposeScope(), logDeterminant.MoveToOuterDisposeScope());
    }

    /// <summary>x from y: the exact inverse of <see cref="Forward"/> (for tests and sampling), with log |det ∂x/∂y|.</summary>
    public (Tensor Input, Tensor LogDeterminant) Inverse(Tensor output, Tensor? condition = null)
    {
        RequireShapes(output, condition);
        using var scope = NewDisposeScope();
        var (globalScale, logGlobalScale) = GlobalScale();
        var unpermuted = output.index_select(1, permutation.argsort());
        var coupled = (unpermuted - global_offset) / globalScale;
        var passive = coupled.narrow(1, 0, PassiveChannels);
        var (logScale, shift) = Coefficients(passive, condition);
        var active = (coupled.narrow(1, PassiveChannels, ActiveChannels) - shift) * (-logScale).exp();
        var logDeterminant = -logScale.sum(sumDimensions) - (ElementsPerChannel(output) * logGlobalScale.sum());
        return (cat([passive, active], 1).MoveToOuterDisposeScope(), logDeterminant.MoveToOuterDisposeScope());
    }

    private (Tensor LogScale, Tensor Shift) Coefficients(Tensor passive, Tensor? condition)
    {
        var subnetInput = condition is null ? passive : cat([passive, condition], 1);
        // FrEIA scales the whole subnet output by 0.1 "for stability and easier initialisation".
        var coefficients = subnet.call(subnetInput) * 0.1;
        var logScale = coefficients.narrow(1, 0, ActiveChannels).tanh() * Clamp;
        return (logScale, coefficients.narrow(1, ActiveChannels, ActiveChannels));
    }

    private (Tensor Scale, Tensor LogScale) GlobalScale()
    {
        var scale = nn.functional.softplus(global_scale, beta: 0.5) * 0.1;
        return (scale, scale.log());
    }

    private static long ElementsPerChannel(Tensor input)
    {
        var count = 1L;
        for (var dimension = 2; dimension < input.dim(); dimension++)
        {
            count *= input.shape[dimension];
        }

        return count;
    }

    private void RequireShapes(Tensor input, Tensor? condition)
    {
        if (input.dim() != sumDimensions.Length + 1 || input.shape[1] != Channels)
        {
            throw new ArgumentException(
                $"expected [N, {Channels}{string.Concat(Enumerable.Repeat(", …", sumDimensions.Length - 1))}], got [{string.Join(", ", input.shape)}]",
                nameof(input));
        }

        if ((condition is null) != (ConditionChannels == 0)
            || (condition is not null && (condition.dim() != input.dim() || condition.shape[1] != ConditionChannels
                                          || condition.shape[0] != input.shape[0]
                                          || !condition.shape.Skip(2).SequenceEqual(input.shape.Skip(2)))))
        {
            throw new ArgumentException(
                $"the block takes a condition of {ConditionChannels} channels shaped like the input; got "
                + (condition is null ? "none" : $"[{string.Join(", ", condition.shape)}]"), nameof(condition));
        }
    }
}
