using Farm.Engine.Imaging;
using Farm.Engine.Models.Components;
using static TorchSharp.torch;

namespace Farm.Engine.Models.Draem;

/// <summary>
/// DRAEM's simulated anomalies (official data_loader.py, MVTecDRAEMTrainDataset), per training image in [0, 1]:
/// <list type="number">
/// <item>with probability 0.3 the image itself is rotated by U(−90°, 90°) (zeros outside): the target too;</item>
/// <item>with probability ½ it stays normal (empty mask);</item>
/// <item>otherwise an anomaly source texture is taken — a random image of the <c>textures</c> folder when one is
/// given (DTD in the paper), else, with equal odds, a procedural two-colour fractal Perlin texture or a random crop
/// (¼ to all of the side) of one of the batch's training images, resized to S — and changed by three of
/// <see cref="TextureAugmentations"/>;</item>
/// <item>a Perlin noise of lattice 2^a × 2^b cells (a, b uniform in 0…5), rotated by U(−90°, 90°), thresholded at 0.5,
/// is the mask M;</item>
/// <item>the anomalous image is I·(1 − M) + (1 − β)·T·M + β·I·M with β ~ U(0, 0.8), i.e. the texture at opacity
/// 1 − β ∈ (0.2, 1] (the official code; the paper writes the opacity range as [0.1, 1]).</item>
/// </list>
/// Every draw comes from the generator handed in, in a fixed order: the same generator state gives the same batch.
/// </summary>
internal sealed class AnomalySimulator
{
    public const double RotateImageProbability = 0.3;
    public const double NormalProbability = 0.5;
    public const double MaskThreshold = 0.5;
    public const int MaxPerlinScaleExponent = 5;

    private readonly IReadOnlyList<string> textureFiles;

    /// <param name="size">S: images are [3, S, S], S a multiple of 32 (the largest Perlin lattice).</param>
    /// <param name="textureFiles">Anomaly source images (e.g. DTD); empty to use procedural and self-cropped textures.</param>
    public AnomalySimulator(int size, IReadOnlyList<string> textureFiles)
    {
        if (size % (1 << MaxPerlinScaleExponent) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "must be a multiple of 32");
        }

        Size = size;
        this.textureFiles = textureFiles;
    }

    public int Size { get; }

    /// <summary>
    /// Targets (the images, some rotated), anomalous inputs and masks [B, 1, S, S] (1 = simulated anomaly) for a batch
    /// of images in [0, 1].
    /// </summary>
    public (Tensor Target, Tensor Augmented, Tensor Mask) Simulate(Tensor images, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        var count = (int)images.shape[0];
        var targets = new Tensor[count];
        var augmented = new Tensor[count];
        var masks = new Tensor[count];
        for (var i = 0; i < count; i++)
        {
            var image = images[i];
            if (TextureAugmentations.Uniform(generator, 0, 1) < RotateImageProbability)
            {
                image = TextureAugmentations.Rotate(image, TextureAugmentations.Uniform(generator, -90, 90));
            }

            targets[i] = image;
            if (TextureAugmentations.Uniform(generator, 0, 1) < NormalProbability)
            {
                augmented[i] = image;
                masks[i] = zeros(1, Size, Size, dtype: images.dtype);
                continue;
            }

            var texture = TextureAugmentations.ApplyRandomThree(SourceTexture(images, generator), generator);
            var mask = Mask(generator).to_type(images.dtype).unsqueeze(0);
            var beta = TextureAugmentations.Uniform(generator, 0, 0.8);
            augmented[i] = (image * (1 - mask)) + ((1 - beta) * texture * mask) + (beta * image * mask);
            masks[i] = mask;
        }

        return (stack(targets).MoveToOuterDisposeScope(), stack(augmented).MoveToOuterDisposeScope(), stack(masks).MoveToOuterDisposeScope());
    }

    /// <summary>The thresholded, rotated Perlin mask [S, S] (0/1).</summary>
    public Tensor Mask(Generator generator)
    {
        using var scope = NewDisposeScope();
        var scaleY = 1 << TextureAugmentations.UniformInt(generator, 0, MaxPerlinScaleExponent + 1);
        var scaleX = 1 << TextureAugmentations.UniformInt(generator, 0, MaxPerlinScaleExponent + 1);
        var noise = PerlinNoise.Sample(Size, Size, scaleY, scaleX, generator);
        var rotated = TextureAugmentations.Rotate(noise.unsqueeze(0), TextureAugmentations.Uniform(generator, -90, 90)).squeeze(0);
        return (rotated > MaskThreshold).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>An anomaly source [3, S, S] in [0, 1] (before augmentation).</summary>
    internal Tensor SourceTexture(Tensor images, Generator generator)
    {
        if (textureFiles.Count > 0)
        {
            return FromFile(textureFiles[TextureAugmentations.UniformInt(generator, 0, textureFiles.Count)]).to_type(images.dtype);
        }

        return TextureAugmentations.Uniform(generator, 0, 1) < 0.5
            ? Procedural(Size, generator).to_type(images.dtype)
            : Crop(images, generator);
    }

    /// <summary>A random two-colour fractal Perlin texture [3, S, S]: base lattice 1, 2 or 4 cells, three octaves.</summary>
    public static Tensor Procedural(int size, Generator generator)
    {
        using var scope = NewDisposeScope();
        var (first, second) = (rand([3, 1, 1], generator: generator), rand([3, 1, 1], generator: generator));
        var resolution = 1 << TextureAugmentations.UniformInt(generator, 0, 3);
        var noise = PerlinNoise.Fractal(size, size, resolution, resolution, 3, 0.5, generator);
        var weight = (0.5 + (0.7 * noise)).clamp(0, 1).unsqueeze(0);
        return (first + ((second - first) * weight)).MoveToOuterDisposeScope();
    }

    /// <summary>A random square crop (¼ to all of the side) of a random image of the batch, resized to S × S.</summary>
    private Tensor Crop(Tensor images, Generator generator)
    {
        using var scope = NewDisposeScope();
        var source = images[TextureAugmentations.UniformInt(generator, 0, (int)images.shape[0])];
        var side = TextureAugmentations.UniformInt(generator, Math.Max(1, Size / 4), Size + 1);
        var top = TextureAugmentations.UniformInt(generator, 0, Size - side + 1);
        var left = TextureAugmentations.UniformInt(generator, 0, Size - side + 1);
        var crop = source[.., top..(top + side), left..(left + side)].unsqueeze(0);
        return nn.functional.interpolate(crop, [Size, Size], mode: InterpolationMode.Bilinear, align_corners: false)
            .squeeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>A texture file resized to S × S (bilinear, as Farm's preprocessing) in [0, 1].</summary>
    private Tensor FromFile(string path)
    {
        using var scope = NewDisposeScope();
        var image = ImageIo.ReadRgb(path);
        var batch = Preprocessing.ToBatch([image], Size);
        return DraemDetector.UnitImage(batch)[0].MoveToOuterDisposeScope();
    }
}
