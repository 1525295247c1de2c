using Farm.Engine.Models.Components.Flows;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Cflow;

/// <summary>
/// The trained part of CFLOW-AD (Gudovskiy et al., 2022), as anomalib builds it: one conditional normalizing-flow
/// decoder per encoder layer, each <c>couplingBlocks</c> <see cref="AllInOneCoupling"/> blocks on single feature
/// vectors ("fibers") with fully connected subnets Linear(n, 2n) → ReLU → Linear(2n, ·), n = passive channels +
/// condition length, conditioned on a 2-D sinusoidal positional encoding of the fiber's position. Also holds, per
/// layer, the largest per-dimension log-likelihood seen in the last training epoch, which normalises the maps.
/// The frozen encoder stays with <see cref="CflowDetector"/>. State-dict keys: <c>decoders.{l}.blocks.{k}.*</c>
/// (subnet linears at <c>subnet.0</c> and <c>subnet.2</c>), <c>log_likelihood_max</c> [L].
/// </summary>
public sealed class CflowModel : nn.Module
{
    private readonly ModuleList<CouplingFlow> decoders;
    private readonly Tensor log_likelihood_max;

    /// <param name="channels">Feature channels of each encoder layer.</param>
    /// <param name="conditionVector">Length of the positional encoding (a multiple of 4).</param>
    /// <param name="couplingBlocks">Coupling blocks per decoder.</param>
    /// <param name="clamp">Soft-clamping bound α of the coupling log scales.</param>
    /// <param name="generator">Draws every permutation and initial subnet weight, decoder by decoder, block by block.</param>
    public CflowModel(IReadOnlyList<int> channels, int conditionVector, int couplingBlocks, double clamp, Generator generator)
        : base("Cflow")
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentOutOfRangeException.ThrowIfLessThan(couplingBlocks, 1);
        if (conditionVector < 4 || conditionVector % 4 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(conditionVector), conditionVector, "must be a positive multiple of 4");
        }

        Channels = channels;
        ConditionVector = conditionVector;
        decoders = nn.ModuleList(channels.Select(count => new CouplingFlow(Enumerable.Range(0, couplingBlocks)
            .Select(_ => new AllInOneCoupling(count, spatialRank: 0, conditionVector, Subnet, clamp, generator))
            .ToList())).ToArray());
        log_likelihood_max = zeros(channels.Count, ScalarType.Float32).DetachFromDisposeScope();
        RegisterComponents();
    }

    public IReadOnlyList<int> Channels { get; }

    public int ConditionVector { get; }

    public CouplingFlow Decoder(int level) => decoders[level];

    /// <summary>The per-layer normalising constants of the maps (a copy).</summary>
    public double[] LogLikelihoodMax => log_likelihood_max.to_type(ScalarType.Float64).data<double>().ToArray();

    /// <summary>Sets the per-layer normalising constants (the last epoch's largest per-dimension log-likelihoods).</summary>
    public void SetLogLikelihoodMax(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != Channels.Count || values.Any(value => !double.IsFinite(value)))
        {
            throw new ArgumentException($"expected {Channels.Count} finite values", nameof(values));
        }

        using var noGrad = no_grad();
        using var source = tensor(values.Select(value => (float)value).ToArray());
        log_likelihood_max.copy_(source);
    }

    /// <summary>
    /// CFLOW's 2-D sinusoidal positional encoding [P, H, W]: the first P/2 channels encode the column and the last
    /// P/2 the row, alternating sin and cos at frequencies 10000^(−2k / (P/2)).
    /// </summary>
    public static Tensor PositionalEncoding(int channels, int height, int width, Device? device = null)
    {
        if (channels < 4 || channels % 4 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "must be a positive multiple of 4");
        }

        using var scope = NewDisposeScope();
        var half = channels / 2;
        var frequencies = (arange(0, half, 2, ScalarType.Float32, device) * (-Math.Log(10000.0) / half)).exp();   // [P/4]
        var columns = outer(frequencies, arange(0, width, ScalarType.Float32, device));                            // [P/4, W]
        var rows = outer(frequencies, arange(0, height, ScalarType.Float32, device));                              // [P/4, H]
        // Interleave sin and cos: channel 2k is sin, 2k + 1 cos.
        var columnCode = stack([columns.sin(), columns.cos()], 1).reshape(half, 1, width).expand(half, height, width);
        var rowCode = stack([rows.sin(), rows.cos()], 1).reshape(half, height, 1).expand(half, height, width);
        return cat([columnCode, rowCode], 0).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Fibers [B·H·W, C] of features [B, C, H, W] (batch, then row, then column) and their conditions [B·H·W, P].</summary>
    public (Tensor Fibers, Tensor Conditions) Fibers(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = NewDisposeScope();
        var (batch, channels, height, width) = ((int)features.shape[0], (int)features.shape[1], (int)features.shape[2], (int)features.shape[3]);
        var fibers = features.permute(0, 2, 3, 1).reshape(-1, channels);
        var conditions = PositionalEncoding(ConditionVector, height, width, features.device).permute(1, 2, 0).reshape(height * width, ConditionVector)
            .repeat(batch, 1);
        return (fibers.MoveToOuterDisposeScope(), conditions.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Log-likelihood per dimension of each fiber under decoder <paramref name="level"/>:
    /// (C · log N(0, 1) density terms: −C · ln √(2π) − ½‖z‖² + log |det J|) / C.
    /// </summary>
    public Tensor LogLikelihoodPerDimension(int level, Tensor fibers, Tensor conditions)
    {
        using var scope = NewDisposeScope();
        var (z, logDeterminant) = decoders[level].Forward(fibers, conditions);
        var channels = fibers.shape[1];
        var logLikelihood = (z.square().sum(1) * -0.5) + logDeterminant - (channels * 0.5 * Math.Log(2 * Math.PI));
        return (logLikelihood / channels).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The anomaly map [B, 1, S, S] of the encoder's features: per layer exp(log-likelihood − that layer's
    /// normalising constant), upsampled bilinearly (align_corners true, as anomalib and the official code) and summed
    /// over layers; the map is the number of layers minus that sum, so likelier positions score lower.
    /// </summary>
    public Tensor AnomalyMap(IReadOnlyList<Tensor> features, int imageSize)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        for (var level = 0; level < features.Count; level++)
        {
            var layer = features[level];
            var (fibers, conditions) = Fibers(layer);
            var logLikelihood = LogLikelihoodPerDimension(level, fibers, conditions)
                .reshape(layer.shape[0], 1, layer.shape[2], layer.shape[3]);
            var probability = (logLikelihood - log_likelihood_max[level]).exp();
            var upsampled = nn.functional.interpolate(probability, [imageSize, imageSize], mode: InterpolationMode.Bilinear, align_corners: true);
            sum = sum is null ? upsampled : sum + upsampled;
        }

        return (features.Count - sum!).MoveToOuterDisposeScope();
    }

    private static Sequential Subnet(int input, int output) =>
        nn.Sequential(("0", nn.Linear(input, 2 * input)), ("1", nn.ReLU()), ("2", nn.Linear(2 * input, output)));
}
