using Farm.Engine.Imaging;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Vae;

/// <summary>
/// The convolutional VAE of Liu et al. (CVPR 2020, "Towards Visually Explaining Variational Autoencoders"), shaped as
/// the official code's ConvVAE (liuem607/expVAE, code/model.py) and generalised from MNIST's 28 px to any size S:
/// <list type="bullet">
/// <item>encoder: 4×4 stride-2 convolutions (padding 1) with ReLU, 64 channels then 128, halving S until the grid is
/// at most 8 cells wide (28 → 14 → 7: the official two convolutions on MNIST; 256 → 8 in five);</item>
/// <item>head: flatten → Linear(C·g·g → hidden) → ReLU → two Linear(hidden → latent) for μ and log σ²;</item>
/// <item>decoder: Linear(latent → hidden) → ReLU → Linear(hidden → C·g·g) → ReLU → transposed 4×4 stride-2
/// convolutions mirroring the encoder (ReLU between them) down to 3 channels: logits of a [0, 1] image. Sizes that are
/// not g·2^d (e.g. 100 → 6·16 = 96) are brought to S × S by bilinear interpolation of the logits.</item>
/// </list>
/// The anomaly map is the paper's gradient-based attention (see <see cref="Attention"/>), not a reconstruction error.
/// State-dict keys: encoder.{i}.*, hidden.*, mu.*, logvar.*, decoder_input.{0,1}.*, decoder.{i}.*.
/// </summary>
public sealed class VaeModel : nn.Module
{
    /// <summary>The encoder halves the input until its grid is at most this wide.</summary>
    public const int MaxGridSize = 8;

    /// <summary>Smallest input: one halving down to the 8-cell grid.</summary>
    public const int MinImageSize = 16;

    private readonly ModuleList<Conv2d> encoder;
    private readonly Linear hidden;
    private readonly Linear mu;
    private readonly Linear logvar;
    private readonly ModuleList<Linear> decoder_input;
    private readonly ModuleList<ConvTranspose2d> decoder;
    private readonly int[] channels;

    /// <param name="imageSize">S: inputs are [B, 3, S, S].</param>
    /// <param name="latentSize">Latent dimensions n (the paper's 32).</param>
    /// <param name="hiddenSize">Width of the fully connected layers (the official 1024).</param>
    /// <param name="generator">Initialisation stream (PyTorch's default layer initialisation, drawn from it).</param>
    public VaeModel(int imageSize, int latentSize, int hiddenSize, Generator generator) : base("VAE")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imageSize, MinImageSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(latentSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ImageSize = imageSize;
        LatentSize = latentSize;
        (Depth, GridSize) = Geometry(imageSize);
        channels = [.. Enumerable.Range(0, Depth).Select(i => i == 0 ? 64 : 128)];
        var flat = channels[^1] * GridSize * GridSize;

        encoder = nn.ModuleList([.. Enumerable.Range(0, Depth).Select(i =>
            nn.Conv2d(i == 0 ? 3 : channels[i - 1], channels[i], 4, stride: 2, padding: 1))]);
        hidden = nn.Linear(flat, hiddenSize);
        mu = nn.Linear(hiddenSize, latentSize);
        logvar = nn.Linear(hiddenSize, latentSize);
        decoder_input = nn.ModuleList(nn.Linear(latentSize, hiddenSize), nn.Linear(hiddenSize, flat));
        decoder = nn.ModuleList([.. Enumerable.Range(0, Depth).Select(i =>
        {
            // Mirror of the encoder: layer i maps channels[d-1-i] to channels[d-2-i], the last one to RGB.
            var input = channels[Depth - 1 - i];
            var output = i == Depth - 1 ? 3 : channels[Depth - 2 - i];
            return nn.ConvTranspose2d(input, output, 4, stride: 2, padding: 1);
        })]);
        RegisterComponents();
        Initialise(generator);
    }

    public int ImageSize { get; }

    public int LatentSize { get; }

    /// <summary>Stride-2 convolutions in the encoder (and transposed ones in the decoder).</summary>
    public int Depth { get; }

    /// <summary>Side g of the last encoder feature map, the grid of the attention map.</summary>
    public int GridSize { get; }

    /// <summary>Encoder depth and grid for an input size: halve (4×4, stride 2, padding 1 floors odd sizes) until ≤ 8.</summary>
    public static (int Depth, int Grid) Geometry(int imageSize)
    {
        var (depth, grid) = (0, imageSize);
        while (grid > MaxGridSize || depth == 0)
        {
            grid /= 2;
            depth++;
        }

        return (depth, grid);
    }

    /// <summary>The parameters' dtype: float32 in the farm; the parity test runs the module in float64.</summary>
    public ScalarType DType => hidden.weight!.dtype;

    /// <summary>F: the output of the last encoder convolution [B, C, g, g] (the layer the official code attends to).</summary>
    public Tensor Features(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var current = batch.to_type(DType);
        for (var i = 0; i < Depth; i++)
        {
            current = encoder[i].forward(i == 0 ? current : current.relu());
        }

        return current.MoveToOuterDisposeScope();
    }

    /// <summary>The head from F: (μ, log σ²), each [B, n].</summary>
    public (Tensor Mu, Tensor LogVar) Head(Tensor features)
    {
        using var scope = NewDisposeScope();
        var h = hidden.forward(features.relu().flatten(1)).relu();
        return (mu.forward(h).MoveToOuterDisposeScope(), logvar.forward(h).MoveToOuterDisposeScope());
    }

    /// <summary>Logits [B, 3, S, S] of the reconstruction of z [B, n] (a sigmoid gives the [0, 1] image).</summary>
    public Tensor Decode(Tensor z)
    {
        using var scope = NewDisposeScope();
        var h = decoder_input[1].forward(decoder_input[0].forward(z).relu()).relu();
        h = h.view(z.shape[0], channels[^1], GridSize, GridSize);
        for (var i = 0; i < Depth; i++)
        {
            h = decoder[i].forward(i == 0 ? h : h.relu());
        }

        if (h.shape[2] != ImageSize)
        {
            h = nn.functional.interpolate(h, [ImageSize, ImageSize], mode: InterpolationMode.Bilinear, align_corners: false);
        }

        return h.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The VAE objective of the official code (Bernoulli likelihood + KL to N(0, I)) for a preprocessed batch with
    /// reparameterisation noise ε [B, n]: per image, the binary cross-entropy summed over pixels between the decoded
    /// logits of z = μ + ε·exp(½ log σ²) and the input mapped back to [0, 1], plus the KL divergence
    /// −½ Σ (1 + log σ² − μ² − σ²); averaged over the batch.
    /// </summary>
    public Tensor Loss(Tensor batch, Tensor epsilon)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(epsilon);
        using var scope = NewDisposeScope();
        var count = batch.shape[0];
        var (m, lv) = Head(Features(batch));
        var z = m + (epsilon.to_type(DType) * (0.5 * lv).exp());
        var logits = Decode(z);
        var target = UnitImage(batch.to_type(DType));
        var reconstruction = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction: nn.Reduction.Sum);
        var kl = -0.5 * (1 + lv - m.square() - lv.exp()).sum();
        return ((reconstruction + kl) / count).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The anomaly attention of Liu et al. (Sec. 3 and 4.1): with z = μ (deterministic), for each latent dimension i,
    /// α_k^i = the spatial mean of ∂z_i/∂F_k over the last encoder feature map F, M^i = ReLU(Σ_k α_k^i F_k), and the
    /// map is the mean of M^i over the n dimensions, bilinearly upsampled (align_corners false) to S × S: [B, 1, S, S].
    /// One backward pass gives all n gradients: F is repeated n times as a leaf, and copy i back-propagates the unit
    /// vector of dimension i (images and copies are independent: the network has no batch statistics).
    /// </summary>
    public Tensor Attention(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var count = batch.shape[0];
        Tensor features;
        using (no_grad())
        {
            features = Features(batch);
        }

        Tensor maps;
        using (enable_grad())
        {
            // Row i·B + b is image b's copy for dimension i.
            var leaf = features.repeat(LatentSize, 1, 1, 1).detach().requires_grad_(true);
            var (m, _) = Head(leaf);
            var selector = eye(LatentSize, dtype: DType, device: leaf.device).repeat_interleave(count, 0);
            var gradient = autograd.grad([m], [leaf], [selector])[0];
            using (no_grad())
            {
                var alpha = gradient.mean([2, 3], keepdim: true);
                var perDimension = (alpha * leaf.detach()).sum(1).relu();
                maps = perDimension.view(LatentSize, count, GridSize, GridSize).mean([0]).unsqueeze(1);
            }
        }

        return nn.functional.interpolate(maps, [ImageSize, ImageSize], mode: InterpolationMode.Bilinear, align_corners: false)
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A preprocessed (ImageNet-normalised) batch back in [0, 1], the Bernoulli likelihood's range (clamped: only
    /// inputs that did not come from an image leave it). The float32 constants are promoted to the batch's dtype.
    /// </summary>
    public static Tensor UnitImage(Tensor batch)
    {
        using var scope = NewDisposeScope();
        var mean = tensor(Preprocessing.ImageNetMean.ToArray(), [1, 3, 1, 1], device: batch.device);
        var std = tensor(Preprocessing.ImageNetStd.ToArray(), [1, 3, 1, 1], device: batch.device);
        return (batch * std + mean).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// PyTorch's default initialisation of Conv2d, ConvTranspose2d and Linear (kaiming_uniform_ with a = √5, i.e.
    /// U(±1/√fan_in) for weights and biases, fan_in from weight.size(1) × kernel area), drawn from the generator.
    /// </summary>
    private void Initialise(Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in named_modules())
        {
            var (weight, bias) = module switch
            {
                Conv2d conv => (conv.weight, conv.bias),
                ConvTranspose2d deconv => (deconv.weight, deconv.bias),
                Linear linear => (linear.weight, linear.bias),
                _ => (null, null),
            };
            if (weight is null)
            {
                continue;
            }

            var fanIn = weight.shape[1] * (weight.dim() == 4 ? weight.shape[2] * weight.shape[3] : 1);
            var bound = 1.0 / Math.Sqrt(fanIn);
            weight.uniform_(-bound, bound, generator);
            bias?.uniform_(-bound, bound, generator);
        }
    }
}
