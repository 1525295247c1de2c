using Farm.Engine.Imaging;
using Farm.Engine.Randomness;

namespace Farm.Engine.Robustness;

/// <summary>The three groups of Table 10 (Baitieva et al.); an image gets at most one transform per group.</summary>
public enum DriftCategory
{
    MotionCamera,
    Lighting,
    CameraPosition,
}

public enum DriftKind
{
    GaussianBlur,
    GaussianNoise,
    ColorJitter,
    RandomShadow,
    Rotation,
    RandomCrop,
    Perspective,
}

/// <summary>
/// One applied transform with every parameter needed to replay it (<see cref="DataDrift.ApplyTransform"/>), so a
/// result records exactly what was done to an image.
/// </summary>
public sealed record DriftTransform(DriftKind Kind, IReadOnlyDictionary<string, double> Parameters)
{
    public DriftCategory Category => DataDrift.CategoryOf(Kind);

    public double this[string name] => Parameters[name];

    public override string ToString() =>
        $"{Kind}({string.Join(", ", Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value:0.###}"))})";
}

public sealed record DriftResult(RgbImage Image, BinaryMask Mask, IReadOnlyList<DriftTransform> Transforms);

/// <summary>
/// Synthetic data drift for test images (protocols.md, "Robustness experiments"; Table 10). Each image gets 1 or 2
/// transforms from different categories, parameters uniform in range, all drawn from a SplitMix64 stream keyed by
/// (seed, image key) so the result does not depend on the order images are processed in. Geometric transforms move
/// the mask with nearest-neighbour sampling, so it stays binary; photometric ones leave it untouched.
/// Readings of Table 10 where it is not explicit:
/// <list type="bullet">
/// <item>Gaussian noise: x + scale·(mean + std·z), z ~ N(0, 1), on [0, 1] intensities, clamped (mean 0.5 thus also
/// brightens by 0.5·scale).</item>
/// <item>Colour jitter: brightness, contrast, saturation in that fixed order, each as torchvision's adjust_*.</item>
/// <item>Random shadow: 3 layers, each a band between two random segments of the top and bottom edges; inside a layer
/// the image is blended halfway towards brightness factor 0 (black), so overlapping layers darken further.</item>
/// <item>Random crop: the scale is the kept share of the area (square root per side, aspect kept), at a uniform
/// position, resized back bilinearly.</item>
/// <item>Perspective: torchvision RandomPerspective's corner model (each corner moves inwards by up to
/// distortion · half the side), drawn continuously.</item>
/// </list>
/// Transforms are applied in category order (motion/camera, lighting, camera position).
/// </summary>
public static class DataDrift
{
    public const int BlurKernelSize = 7;
    public const double BlurSigmaMin = 0.1, BlurSigmaMax = 1.5;
    public const double NoiseMean = 0.5, NoiseStd = 1.0, NoiseScaleMin = 0.01, NoiseScaleMax = 0.05;
    public const double JitterMin = 0.5, JitterMax = 1.5;
    public const int ShadowLayers = 3;
    public const double ShadowBrightness = 0.0, ShadowOpacity = 0.5;
    public const double RotationMaxDegrees = 5.0;
    public const double CropScaleMin = 0.8, CropScaleMax = 1.0;
    public const double PerspectiveDistortion = 0.2;

    private static readonly DriftKind[][] KindsByCategory =
    [
        [DriftKind.GaussianBlur, DriftKind.GaussianNoise],
        [DriftKind.ColorJitter, DriftKind.RandomShadow],
        [DriftKind.Rotation, DriftKind.RandomCrop, DriftKind.Perspective],
    ];

    public static DriftCategory CategoryOf(DriftKind kind) => kind switch
    {
        DriftKind.GaussianBlur or DriftKind.GaussianNoise => DriftCategory.MotionCamera,
        DriftKind.ColorJitter or DriftKind.RandomShadow => DriftCategory.Lighting,
        _ => DriftCategory.CameraPosition,
    };

    public static DriftResult Apply(RgbImage image, BinaryMask mask, int seed, string imageKey)
    {
        var transforms = Draw(image.Width, image.Height, seed, imageKey);
        foreach (var transform in transforms)
        {
            (image, mask) = ApplyTransform(image, mask, transform);
        }

        return new DriftResult(image, mask, transforms);
    }

    /// <summary>Chooses the transforms and their parameters for one image; depends only on size, seed and key.</summary>
    public static IReadOnlyList<DriftTransform> Draw(int width, int height, int seed, string imageKey)
    {
        var random = new SplitMix64(SplitMix64.Mix(SplitMix64.Hash(imageKey) ^ SplitMix64.Mix((ulong)(uint)seed)));
        var count = 1 + random.NextInt(2);
        var categories = new List<int> { 0, 1, 2 };
        var chosen = new List<int>();
        for (var i = 0; i < count; i++)
        {
            var pick = random.NextInt(categories.Count);
            chosen.Add(categories[pick]);
            categories.RemoveAt(pick);
        }

        chosen.Sort();
        return [.. chosen.Select(category =>
        {
            var kinds = KindsByCategory[category];
            return DrawParameters(kinds[random.NextInt(kinds.Length)], width, height, random);
        })];
    }

    /// <summary>Draws the parameters of one given transform (used by <see cref="Draw"/> and for illustrations).</summary>
    public static DriftTransform DrawTransform(DriftKind kind, int width, int height, int seed, string imageKey) =>
        DrawParameters(kind, width, height,
            new SplitMix64(SplitMix64.Mix(SplitMix64.Hash($"{kind}\n{imageKey}") ^ SplitMix64.Mix((ulong)(uint)seed))));

    private static DriftTransform DrawParameters(DriftKind kind, int width, int height, SplitMix64 random)
    {
        var p = new Dictionary<string, double>(StringComparer.Ordinal);
        switch (kind)
        {
            case DriftKind.GaussianBlur:
                p["sigma"] = random.Uniform(BlurSigmaMin, BlurSigmaMax);
                break;
            case DriftKind.GaussianNoise:
                p["scale"] = random.Uniform(NoiseScaleMin, NoiseScaleMax);
                // 32 bits keep the seed exact in a double.
                p["noise_seed"] = random.NextUInt64() >> 32;
                break;
            case DriftKind.ColorJitter:
                p["brightness"] = random.Uniform(JitterMin, JitterMax);
                p["contrast"] = random.Uniform(JitterMin, JitterMax);
                p["saturation"] = random.Uniform(JitterMin, JitterMax);
                break;
            case DriftKind.RandomShadow:
                for (var layer = 0; layer < ShadowLayers; layer++)
                {
                    var (top0, top1) = Ordered(random.NextDouble(), random.NextDouble());
                    var (bottom0, bottom1) = Ordered(random.NextDouble(), random.NextDouble());
                    p[$"layer{layer}_top_left"] = top0 * width;
                    p[$"layer{layer}_top_right"] = top1 * width;
                    p[$"layer{layer}_bottom_left"] = bottom0 * width;
                    p[$"layer{layer}_bottom_right"] = bottom1 * width;
                }

                break;
            case DriftKind.Rotation:
                p["degrees"] = random.Uniform(-RotationMaxDegrees, RotationMaxDegrees);
                break;
            case DriftKind.RandomCrop:
                var scale = random.Uniform(CropScaleMin, CropScaleMax);
                var cropWidth = Math.Clamp((int)Math.Round(Math.Sqrt(scale) * width), 1, width);
                var cropHeight = Math.Clamp((int)Math.Round(Math.Sqrt(scale) * height), 1, height);
                p["scale"] = scale;
                p["left"] = random.NextInt(width - cropWidth + 1);
                p["top"] = random.NextInt(height - cropHeight + 1);
                p["width"] = cropWidth;
                p["height"] = cropHeight;
                break;
            case DriftKind.Perspective:
                var dx = PerspectiveDistortion * width / 2;
                var dy = PerspectiveDistortion * height / 2;
                // Corners top-left, top-right, bottom-right, bottom-left, each pulled inwards.
                double[] signX = [1, -1, -1, 1], signY = [1, 1, -1, -1];
                for (var corner = 0; corner < 4; corner++)
                {
                    p[$"corner{corner}_dx"] = signX[corner] * random.NextDouble() * dx;
                    p[$"corner{corner}_dy"] = signY[corner] * random.NextDouble() * dy;
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }

        return new DriftTransform(kind, p);
    }

    private static (double, double) Ordered(double a, double b) => a <= b ? (a, b) : (b, a);

    /// <summary>Applies one transform with recorded parameters to an image and its mask.</summary>
    public static (RgbImage Image, BinaryMask Mask) ApplyTransform(RgbImage image, BinaryMask mask, DriftTransform transform)
    {
        if (mask.Width != image.Width || mask.Height != image.Height)
        {
            throw new ArgumentException($"mask is {mask.Width}×{mask.Height} but the image is {image.Width}×{image.Height}");
        }

        var drifted = FromPlanes(TransformPlanes(ToPlanes(image), image.Width, image.Height, transform), image.Width, image.Height);
        var driftedMask = transform.Kind switch
        {
            DriftKind.Rotation => WarpNearest(mask, RotationMap(mask.Width, mask.Height, transform["degrees"])),
            DriftKind.RandomCrop => CropResizeNearest(mask, (int)transform["left"], (int)transform["top"],
                (int)transform["width"], (int)transform["height"]),
            DriftKind.Perspective => WarpNearest(mask, PerspectiveMap(mask.Width, mask.Height, transform)),
            _ => mask,
        };
        return (drifted, driftedMask);
    }

    /// <summary>One transform on float planes (C × H × W, [0, 1]) before 8-bit rounding; compared with torchvision.</summary>
    internal static float[] TransformPlanes(float[] planes, int w, int h, DriftTransform transform)
    {
        switch (transform.Kind)
        {
            case DriftKind.GaussianBlur:
                return GaussianBlur(planes, w, h, transform["sigma"]);
            case DriftKind.GaussianNoise:
                return AddNoise(planes, transform["scale"], (ulong)transform["noise_seed"]);
            case DriftKind.ColorJitter:
                var jittered = AdjustBrightness(planes, transform["brightness"]);
                jittered = AdjustContrast(jittered, w, h, transform["contrast"]);
                return AdjustSaturation(jittered, w, h, transform["saturation"]);
            case DriftKind.RandomShadow:
                return Shadow(planes, w, h, transform);
            case DriftKind.Rotation:
                return WarpBilinear(planes, w, h, RotationMap(w, h, transform["degrees"]));
            case DriftKind.RandomCrop:
                int cropWidth = (int)transform["width"], cropHeight = (int)transform["height"];
                var cropped = Crop(planes, w, h, (int)transform["left"], (int)transform["top"], cropWidth, cropHeight);
                return ResizeBilinear(cropped, cropWidth, cropHeight, w, h);
            case DriftKind.Perspective:
                return WarpBilinear(planes, w, h, PerspectiveMap(w, h, transform));
            default:
                throw new ArgumentOutOfRangeException(nameof(transform), transform.Kind, null);
        }
    }

    // ---- Planes: float intensities in [0, 1], channel-major (C × H × W), as torchvision's float tensors.

    internal static float[] ToPlanes(RgbImage image)
    {
        var count = image.Width * image.Height;
        var planes = new float[3 * count];
        for (var i = 0; i < count; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                planes[(c * count) + i] = image.Pixels[(i * 3) + c] / 255f;
            }
        }

        return planes;
    }

    internal static RgbImage FromPlanes(float[] planes, int width, int height)
    {
        var count = width * height;
        var pixels = new byte[3 * count];
        for (var i = 0; i < count; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                pixels[(i * 3) + c] = (byte)Math.Clamp(Math.Round(planes[(c * count) + i] * 255.0), 0, 255);
            }
        }

        return new RgbImage(width, height, pixels);
    }

    /// <summary>torchvision gaussian_blur: kernel from linspace(-3, 3, 7), reflect padding, separable.</summary>
    internal static float[] GaussianBlur(float[] planes, int width, int height, double sigma)
    {
        const int half = BlurKernelSize / 2;
        var kernel = new double[BlurKernelSize];
        for (var i = 0; i < BlurKernelSize; i++)
        {
            var x = (i - half) / sigma;
            kernel[i] = Math.Exp(-0.5 * x * x);
        }

        var sum = kernel.Sum();
        for (var i = 0; i < BlurKernelSize; i++)
        {
            kernel[i] /= sum;
        }

        static int Reflect(int i, int n) => i < 0 ? -i : i >= n ? (2 * n) - 2 - i : i;
        var count = width * height;
        var across = new double[planes.Length];
        var output = new float[planes.Length];
        for (var c = 0; c < 3; c++)
        {
            var plane = c * count;
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var total = 0.0;
                    for (var k = 0; k < BlurKernelSize; k++)
                    {
                        total += kernel[k] * planes[plane + (y * width) + Reflect(x + k - half, width)];
                    }

                    across[plane + (y * width) + x] = total;
                }
            }

            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var total = 0.0;
                    for (var k = 0; k < BlurKernelSize; k++)
                    {
                        total += kernel[k] * across[plane + (Reflect(y + k - half, height) * width) + x];
                    }

                    output[plane + (y * width) + x] = (float)total;
                }
            }
        }

        return output;
    }

    internal static float[] AddNoise(float[] planes, double scale, ulong noiseSeed)
    {
        var random = new SplitMix64(noiseSeed);
        var output = new float[planes.Length];
        for (var i = 0; i < planes.Length; i++)
        {
            // Box–Muller; 1 − u keeps the logarithm finite.
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            output[i] = (float)Math.Clamp(planes[i] + (scale * (NoiseMean + (NoiseStd * z))), 0, 1);
        }

        return output;
    }

    internal static float[] AdjustBrightness(float[] planes, double factor) =>
        [.. planes.Select(v => (float)Math.Clamp(factor * v, 0, 1))];

    private static float[] Grayscale(float[] planes, int count)
    {
        var gray = new float[count];
        for (var i = 0; i < count; i++)
        {
            gray[i] = (0.2989f * planes[i]) + (0.587f * planes[count + i]) + (0.114f * planes[(2 * count) + i]);
        }

        return gray;
    }

    internal static float[] AdjustContrast(float[] planes, int width, int height, double factor)
    {
        var count = width * height;
        var mean = Grayscale(planes, count).Select(v => (double)v).Average();
        return [.. planes.Select(v => (float)Math.Clamp((factor * v) + ((1 - factor) * mean), 0, 1))];
    }

    internal static float[] AdjustSaturation(float[] planes, int width, int height, double factor)
    {
        var count = width * height;
        var gray = Grayscale(planes, count);
        var output = new float[planes.Length];
        for (var i = 0; i < planes.Length; i++)
        {
            output[i] = (float)Math.Clamp((factor * planes[i]) + ((1 - factor) * gray[i % count]), 0, 1);
        }

        return output;
    }

    private static float[] Shadow(float[] planes, int width, int height, DriftTransform transform)
    {
        var count = width * height;
        var gain = new double[count];
        Array.Fill(gain, 1.0);
        for (var layer = 0; layer < ShadowLayers; layer++)
        {
            double topLeft = transform[$"layer{layer}_top_left"], topRight = transform[$"layer{layer}_top_right"];
            double bottomLeft = transform[$"layer{layer}_bottom_left"], bottomRight = transform[$"layer{layer}_bottom_right"];
            for (var y = 0; y < height; y++)
            {
                var t = height > 1 ? y / (double)(height - 1) : 0;
                var left = topLeft + ((bottomLeft - topLeft) * t);
                var right = topRight + ((bottomRight - topRight) * t);
                for (var x = 0; x < width; x++)
                {
                    var centre = x + 0.5;
                    if (centre >= left && centre <= right)
                    {
                        gain[(y * width) + x] *= 1 - (ShadowOpacity * (1 - ShadowBrightness));
                    }
                }
            }
        }

        var output = new float[planes.Length];
        for (var i = 0; i < planes.Length; i++)
        {
            output[i] = (float)(planes[i] * gain[i % count]);
        }

        return output;
    }

    /// <summary>Maps an output pixel (x, y) to the input position it samples, in pixel-index coordinates.</summary>
    private delegate (double X, double Y) SourceMap(int x, int y);

    /// <summary>torchvision rotate (counter-clockwise for positive degrees, about the image centre, zeros outside).</summary>
    private static SourceMap RotationMap(int width, int height, double degrees)
    {
        var radians = degrees * Math.PI / 180;
        double cos = Math.Cos(radians), sin = Math.Sin(radians);
        double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
        return (x, y) =>
        {
            double dx = x - cx, dy = y - cy;
            return (cx + (cos * dx) - (sin * dy), cy + (sin * dx) + (cos * dy));
        };
    }

    /// <summary>
    /// The homography taking the moved corners (output) back to the image corners (input), solved from four point pairs
    /// (torchvision's _get_perspective_coeffs; corners are RandomPerspective's start points).
    /// </summary>
    private static SourceMap PerspectiveMap(int width, int height, DriftTransform transform)
    {
        double[][] corners = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]];
        var system = new double[8, 9];
        for (var i = 0; i < 4; i++)
        {
            double u = corners[i][0] + transform[$"corner{i}_dx"], v = corners[i][1] + transform[$"corner{i}_dy"];
            double x = corners[i][0], y = corners[i][1];
            double[] rowX = [u, v, 1, 0, 0, 0, -x * u, -x * v, x];
            double[] rowY = [0, 0, 0, u, v, 1, -y * u, -y * v, y];
            for (var k = 0; k < 9; k++)
            {
                system[2 * i, k] = rowX[k];
                system[(2 * i) + 1, k] = rowY[k];
            }
        }

        var h = SolveLinear(system);
        // As torchvision's perspective: the homography acts on pixel-edge coordinates (index + 0.5).
        return (x, y) =>
        {
            double ex = x + 0.5, ey = y + 0.5;
            var denominator = (h[6] * ex) + (h[7] * ey) + 1;
            return ((((h[0] * ex) + (h[1] * ey) + h[2]) / denominator) - 0.5,
                (((h[3] * ex) + (h[4] * ey) + h[5]) / denominator) - 0.5);
        };
    }

    /// <summary>Gaussian elimination with partial pivoting on an n × (n + 1) augmented matrix.</summary>
    private static double[] SolveLinear(double[,] augmented)
    {
        var n = augmented.GetLength(0);
        for (var col = 0; col < n; col++)
        {
            var pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(augmented[r, col]));
            for (var k = 0; k <= n; k++)
            {
                (augmented[col, k], augmented[pivot, k]) = (augmented[pivot, k], augmented[col, k]);
            }

            for (var r = 0; r < n; r++)
            {
                if (r == col)
                {
                    continue;
                }

                var factor = augmented[r, col] / augmented[col, col];
                for (var k = col; k <= n; k++)
                {
                    augmented[r, k] -= factor * augmented[col, k];
                }
            }
        }

        return [.. Enumerable.Range(0, n).Select(r => augmented[r, n] / augmented[r, r])];
    }

    /// <summary>Bilinear sampling with zeros outside (grid_sample, padding "zeros").</summary>
    private static float[] WarpBilinear(float[] planes, int width, int height, SourceMap map)
    {
        var count = width * height;
        var output = new float[planes.Length];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var (sx, sy) = map(x, y);
                int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                double fx = sx - x0, fy = sy - y0;
                for (var c = 0; c < 3; c++)
                {
                    double Pixel(int px, int py) =>
                        px < 0 || py < 0 || px >= width || py >= height ? 0 : planes[(c * count) + (py * width) + px];
                    var value = ((1 - fy) * (((1 - fx) * Pixel(x0, y0)) + (fx * Pixel(x0 + 1, y0))))
                        + (fy * (((1 - fx) * Pixel(x0, y0 + 1)) + (fx * Pixel(x0 + 1, y0 + 1))));
                    output[(c * count) + (y * width) + x] = (float)value;
                }
            }
        }

        return output;
    }

    private static BinaryMask WarpNearest(BinaryMask mask, SourceMap map)
    {
        var output = new bool[mask.Pixels.Length];
        for (var y = 0; y < mask.Height; y++)
        {
            for (var x = 0; x < mask.Width; x++)
            {
                var (sx, sy) = map(x, y);
                int px = (int)Math.Round(sx), py = (int)Math.Round(sy);
                output[(y * mask.Width) + x] = px >= 0 && py >= 0 && px < mask.Width && py < mask.Height
                    && mask.Pixels[(py * mask.Width) + px];
            }
        }

        return new BinaryMask(mask.Width, mask.Height, output);
    }

    private static float[] Crop(float[] planes, int width, int height, int left, int top, int cropWidth, int cropHeight)
    {
        var output = new float[3 * cropWidth * cropHeight];
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < cropHeight; y++)
            {
                Array.Copy(planes, (c * width * height) + ((top + y) * width) + left,
                    output, (c * cropWidth * cropHeight) + (y * cropWidth), cropWidth);
            }
        }

        return output;
    }

    /// <summary>Bilinear resize as torch's interpolate(align_corners=False) without antialiasing.</summary>
    private static float[] ResizeBilinear(float[] planes, int width, int height, int outWidth, int outHeight)
    {
        static (int I0, int I1, double F) Source(int d, int input, int output)
        {
            var s = Math.Max(0, ((d + 0.5) * input / output) - 0.5);
            var i0 = Math.Min((int)s, input - 1);
            return (i0, Math.Min(i0 + 1, input - 1), s - i0);
        }

        var output = new float[3 * outWidth * outHeight];
        for (var y = 0; y < outHeight; y++)
        {
            var (y0, y1, fy) = Source(y, height, outHeight);
            for (var x = 0; x < outWidth; x++)
            {
                var (x0, x1, fx) = Source(x, width, outWidth);
                for (var c = 0; c < 3; c++)
                {
                    var plane = c * width * height;
                    var top = ((1 - fx) * planes[plane + (y0 * width) + x0]) + (fx * planes[plane + (y0 * width) + x1]);
                    var bottom = ((1 - fx) * planes[plane + (y1 * width) + x0]) + (fx * planes[plane + (y1 * width) + x1]);
                    output[(c * outWidth * outHeight) + (y * outWidth) + x] = (float)(((1 - fy) * top) + (fy * bottom));
                }
            }
        }

        return output;
    }

    private static BinaryMask CropResizeNearest(BinaryMask mask, int left, int top, int cropWidth, int cropHeight)
    {
        var output = new bool[mask.Pixels.Length];
        for (var y = 0; y < mask.Height; y++)
        {
            var sy = top + Math.Min((int)((y + 0.5) * cropHeight / mask.Height), cropHeight - 1);
            for (var x = 0; x < mask.Width; x++)
            {
                var sx = left + Math.Min((int)((x + 0.5) * cropWidth / mask.Width), cropWidth - 1);
                output[(y * mask.Width) + x] = mask.Pixels[(sy * mask.Width) + sx];
            }
        }

        return new BinaryMask(mask.Width, mask.Height, output);
    }
}
