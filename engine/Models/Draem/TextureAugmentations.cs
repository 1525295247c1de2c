using static TorchSharp.torch;

namespace Farm.Engine.Models.Draem;

/// <summary>
/// The ten colour and geometry augmentations DRAEM applies (three of them, distinct, in random order) to an anomaly
/// source texture before blending it in (the official data_loader.py, with imgaug): on one image [3, H, W] in [0, 1],
/// parameters drawn from the given generator. Histogram operations (posterize, autocontrast, equalize) work on 8-bit
/// values as PIL does; the others in floating point.
/// <list type="number">
/// <item>gamma contrast: x^γ per channel, γ ~ U(0.5, 2);</item>
/// <item>brightness: luma Y = 0.299R + 0.587G + 0.114B becomes m·Y + a (m ~ U(0.8, 1.2), a ~ U(−30, 30)/255), the
/// change added to every channel (imgaug changes the luminance channel of a colour space; YCbCr here);</item>
/// <item>sharpness: PIL's, blending the image with its 3×3 smoothed version (kernel 1,1,1 / 1,5,1 / 1,1,1 over 13,
/// border pixels kept) by a factor ~ U(0, 2);</item>
/// <item>hue and saturation: in HSV, hue shifted by U(−50, 50)/255 of a turn and saturation by an independent
/// U(−50, 50)/255 (imgaug's per-channel setting);</item>
/// <item>solarize: with probability ½, values ≥ t inverted, t ~ U(32, 128)/255;</item>
/// <item>posterize: the top b bits of each 8-bit value kept, b uniform in 1…8;</item>
/// <item>invert: 1 − x;</item>
/// <item>autocontrast: PIL's, per channel, cutting c % of the darkest and of the lightest pixels (c uniform in 0…20) and
/// stretching the rest to [0, 255];</item>
/// <item>equalize: PIL's histogram equalisation per channel;</item>
/// <item>rotation by U(−45°, 45°) about the centre, bilinear, zeros outside.</item>
/// </list>
/// </summary>
internal static class TextureAugmentations
{
    public const int Count = 10;

    private static readonly Func<Tensor, Generator, Tensor>[] All =
    [
        GammaContrast, Brightness, Sharpness, HueAndSaturation, Solarize, Posterize, Invert, Autocontrast, Equalize,
        (image, generator) => Rotate(image, Uniform(generator, -45, 45)),
    ];

    /// <summary>Applies augmentation number <paramref name="index"/> (0-9, in the order of the class summary).</summary>
    public static Tensor Apply(int index, Tensor image, Generator generator) => All[index](image, generator);

    /// <summary>Three distinct augmentations in random order, as the official randAugmenter.</summary>
    public static Tensor ApplyRandomThree(Tensor image, Generator generator)
    {
        using var scope = NewDisposeScope();
        var order = randperm(Count, generator: generator).data<long>().Take(3).ToArray();
        var result = image;
        foreach (var index in order)
        {
            result = Apply((int)index, result, generator).clamp(0, 1);
        }

        return result.MoveToOuterDisposeScope();
    }

    public static double Uniform(Generator generator, double low, double high)
    {
        using var draw = rand([1], ScalarType.Float64, generator: generator);
        return low + ((high - low) * draw.item<double>());
    }

    public static int UniformInt(Generator generator, int low, int highExclusive)
    {
        using var draw = randint(low, highExclusive, [1], generator: generator);
        return (int)draw.item<long>();
    }

    /// <summary>Rotation of [C, H, W] (or [B, C, H, W]) by <paramref name="degrees"/> about the centre; zeros outside.</summary>
    public static Tensor Rotate(Tensor image, double degrees)
    {
        using var scope = NewDisposeScope();
        var batch = image.dim() == 3 ? image.unsqueeze(0) : image;
        var radians = degrees * Math.PI / 180;
        var (cos, sin) = (Math.Cos(radians), Math.Sin(radians));
        // Normalised coordinates: a square image's rotation needs no aspect correction; others are scaled.
        var aspect = (double)batch.shape[3] / batch.shape[2];
        var theta = tensor(new[] { cos, -sin / aspect, 0, sin * aspect, cos, 0 }, [1, 2, 3], ScalarType.Float32)
            .expand(batch.shape[0], 2, 3).to_type(batch.dtype);
        var grid = nn.functional.affine_grid(theta, [batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3]], align_corners: false);
        var rotated = nn.functional.grid_sample(batch, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false);
        return (image.dim() == 3 ? rotated.squeeze(0) : rotated).MoveToOuterDisposeScope();
    }

    private static Tensor GammaContrast(Tensor image, Generator generator)
    {
        using var scope = NewDisposeScope();
        var gamma = tensor(Enumerable.Range(0, 3).Select(_ => Uniform(generator, 0.5, 2.0)).ToArray(), [3, 1, 1]).to_type(image.dtype);
        return image.clamp(0, 1).pow(gamma).MoveToOuterDisposeScope();
    }

    private static Tensor Brightness(Tensor image, Generator generator)
    {
        using var scope = NewDisposeScope();
        var multiply = Uniform(generator, 0.8, 1.2);
        var add = Uniform(generator, -30, 30) / 255;
        var luma = (0.299 * image[0]) + (0.587 * image[1]) + (0.114 * image[2]);
        return (image + ((luma * (multiply - 1)) + add).unsqueeze(0)).clamp(0, 1).MoveToOuterDisposeScope();
    }

    private static Tensor Sharpness(Tensor image, Generator generator)
    {
        using var scope = NewDisposeScope();
        var factor = Uniform(generator, 0.0, 2.0);
        var kernel = tensor(new float[] { 1, 1, 1, 1, 5, 1, 1, 1, 1 }, [1, 1, 3, 3]).to_type(image.dtype) / 13;
        var smooth = nn.functional.conv2d(image.unsqueeze(1), kernel).squeeze(1);
        var degenerate = image.clone();
        degenerate[.., 1..^1, 1..^1] = smooth;
        return (degenerate + (factor * (image - degenerate))).clamp(0, 1).MoveToOuterDisposeScope();
    }

    private static Tensor HueAndSaturation(Tensor image, Generator generator)
    {
        using var scope = NewDisposeScope();
        var hueShift = Uniform(generator, -50, 50) / 255;
        var saturationShift = Uniform(generator, -50, 50) / 255;
        var (h, s, v) = ToHsv(image.clamp(0, 1));
        h = (h + hueShift).remainder(1.0);
        s = (s + saturationShift).clamp(0, 1);
        return FromHsv(h, s, v).MoveToOuterDisposeScope();
    }

    private static Tensor Solarize(Tensor image, Generator generator)
    {
        using var scope = NewDisposeScope();
        var apply = Uniform(generator, 0, 1) < 0.5;
        var threshold = Uniform(generator, 32, 128) / 255;
        return (apply ? where(image >= threshold, 1 - image, image) : image.clone()).MoveToOuterDisposeScope();
    }

    private static Tensor Posterize(Tensor image, Generator generator)
    {
        using var scope = NewDisposeScope();
        var bits = UniformInt(generator, 1, 9);
        var mask = 0xFF & ~((1 << (8 - bits)) - 1);
        var bytes = ToBytes(image).bitwise_and(mask);
        return (bytes.to_type(image.dtype) / 255).MoveToOuterDisposeScope();
    }

    private static Tensor Invert(Tensor image, Generator generator) => 1 - image;

    private static Tensor Autocontrast(Tensor image, Generator generator)
    {
        var cutoff = UniformInt(generator, 0, 21);
        return ApplyLookup(image, histogram => AutocontrastLookup(histogram, cutoff));
    }

    private static Tensor Equalize(Tensor image, Generator generator) => ApplyLookup(image, EqualizeLookup);

    /// <summary>PIL's ImageOps.autocontrast lookup for one band's histogram.</summary>
    internal static int[] AutocontrastLookup(long[] histogram, int cutoffPercent)
    {
        var h = (long[])histogram.Clone();
        var total = h.Sum();
        var cut = total * cutoffPercent / 100;
        // Remove `cut` pixels from the dark end, then from the light end.
        for (var (i, left) = (0, cut); i < 256 && left > 0; i++)
        {
            var taken = Math.Min(left, h[i]);
            h[i] -= taken;
            left -= taken;
        }

        for (var (i, left) = (255, cut); i >= 0 && left > 0; i--)
        {
            var taken = Math.Min(left, h[i]);
            h[i] -= taken;
            left -= taken;
        }

        var low = Array.FindIndex(h, count => count > 0);
        var high = Array.FindLastIndex(h, count => count > 0);
        if (low < 0 || high <= low)
        {
            return Identity();
        }

        var scale = 255.0 / (high - low);
        var offset = -low * scale;
        return Enumerable.Range(0, 256).Select(value => Math.Clamp((int)((value * scale) + offset), 0, 255)).ToArray();
    }

    /// <summary>PIL's ImageOps.equalize lookup for one band's histogram.</summary>
    internal static int[] EqualizeLookup(long[] histogram)
    {
        var nonZero = histogram.Where(count => count > 0).ToArray();
        if (nonZero.Length <= 1)
        {
            return Identity();
        }

        var step = (nonZero.Sum() - nonZero[^1]) / 255;
        if (step == 0)
        {
            return Identity();
        }

        var lookup = new int[256];
        var n = step / 2;
        for (var i = 0; i < 256; i++)
        {
            lookup[i] = (int)Math.Min(255, n / step);
            n += histogram[i];
        }

        return lookup;
    }

    private static int[] Identity() => Enumerable.Range(0, 256).ToArray();

    /// <summary>8-bit values of a [0, 1] image (rounded, as the official pipeline's uint8 images).</summary>
    private static Tensor ToBytes(Tensor image) => (image.clamp(0, 1) * 255).round().to_type(ScalarType.Int64);

    /// <summary>Maps each channel's 8-bit values through a lookup built from that channel's histogram.</summary>
    private static Tensor ApplyLookup(Tensor image, Func<long[], int[]> lookupOf)
    {
        using var scope = NewDisposeScope();
        var bytes = ToBytes(image);
        var channels = new Tensor[image.shape[0]];
        for (var c = 0; c < channels.Length; c++)
        {
            var values = bytes[c].flatten();
            var histogram = bincount(values, minlength: 256).data<long>().ToArray();
            var lookup = tensor(lookupOf(histogram).Select(value => value / 255f).ToArray()).to_type(image.dtype);
            channels[c] = lookup.index_select(0, values).view(image.shape[1], image.shape[2]);
        }

        return stack(channels).MoveToOuterDisposeScope();
    }

    /// <summary>RGB [3, H, W] in [0, 1] to hue (turns, [0, 1)), saturation and value, each [H, W].</summary>
    internal static (Tensor H, Tensor S, Tensor V) ToHsv(Tensor rgb)
    {
        var (r, g, b) = (rgb[0], rgb[1], rgb[2]);
        var max = rgb.amax([0]);
        var min = rgb.amin([0]);
        var chroma = max - min;
        var safe = where(chroma > 0, chroma, ones_like(chroma));
        var hue = where(max == r, ((g - b) / safe).remainder(6.0),
            where(max == g, ((b - r) / safe) + 2, ((r - g) / safe) + 4));
        hue = where(chroma > 0, hue / 6, zeros_like(hue));
        var saturation = where(max > 0, chroma / where(max > 0, max, ones_like(max)), zeros_like(max));
        return (hue, saturation, max);
    }

    /// <summary>Hue (turns), saturation and value back to RGB [3, H, W].</summary>
    internal static Tensor FromHsv(Tensor h, Tensor s, Tensor v)
    {
        var sector = (h * 6).floor();
        var f = (h * 6) - sector;
        var p = v * (1 - s);
        var q = v * (1 - (s * f));
        var t = v * (1 - (s * (1 - f)));
        var i = sector.remainder(6.0);
        Tensor Pick(Tensor c0, Tensor c1, Tensor c2, Tensor c3, Tensor c4, Tensor c5) =>
            where(i == 0, c0, where(i == 1, c1, where(i == 2, c2, where(i == 3, c3, where(i == 4, c4, c5)))));
        return stack([Pick(v, q, p, p, t, v), Pick(t, v, v, q, p, p), Pick(p, p, t, v, v, q)]);
    }
}
