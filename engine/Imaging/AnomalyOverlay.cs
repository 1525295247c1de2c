namespace Farm.Engine.Imaging;

/// <summary>
/// Pictures of anomaly maps for people: the test image with its anomaly map blended on top as a colour heat map (jet:
/// blue low, red high) and the ground-truth mask's outline drawn in <see cref="OutlineColour"/>. The heat map's
/// opacity grows with the map value (0 at <c>low</c>, <see cref="MaxOpacity"/> at <c>high</c>), so a pixel at the low
/// end shows the image untouched and hot regions stand out without hiding the defect beneath them.
/// </summary>
public static class AnomalyOverlay
{
    public const double MaxOpacity = 0.6;

    /// <summary>Pure green: the jet colours blended at most 60 % over an image do not produce it.</summary>
    public static (byte R, byte G, byte B) OutlineColour { get; } = (0, 255, 0);

    /// <summary>
    /// The overlay of one image. <paramref name="image"/> must already be at the map's size (see
    /// <see cref="ResizeBilinear"/>); <paramref name="map"/> and <paramref name="mask"/> are row-major of that size.
    /// Map values are scaled to [0, 1] by <paramref name="low"/> and <paramref name="high"/> (a cell's common range, so
    /// colours compare across its images) and clamped. A null mask (no pixel ground truth) draws no outline.
    /// </summary>
    public static RgbImage Render(RgbImage image, float[] map, bool[]? mask, double low, double high)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(map);
        var pixels = image.Width * image.Height;
        if (map.Length != pixels || image.Pixels.Length != pixels * 3 || (mask is not null && mask.Length != pixels))
        {
            throw new ArgumentException(
                $"overlay needs an image, map and mask of one size: image {image.Width}×{image.Height} " +
                $"({image.Pixels.Length} bytes), map of {map.Length} values, mask of {mask?.Length ?? pixels} pixels");
        }

        var span = high > low ? high - low : 1.0;
        var output = new byte[pixels * 3];
        for (var pixel = 0; pixel < pixels; pixel++)
        {
            var value = Math.Clamp((map[pixel] - low) / span, 0.0, 1.0);
            var opacity = MaxOpacity * value;
            var (r, g, b) = Jet(value);
            output[pixel * 3] = Blend(image.Pixels[pixel * 3], r, opacity);
            output[(pixel * 3) + 1] = Blend(image.Pixels[(pixel * 3) + 1], g, opacity);
            output[(pixel * 3) + 2] = Blend(image.Pixels[(pixel * 3) + 2], b, opacity);
        }

        if (mask is not null)
        {
            var outline = Outline(mask, image.Width, image.Height);
            for (var pixel = 0; pixel < pixels; pixel++)
            {
                if (outline[pixel])
                {
                    output[pixel * 3] = OutlineColour.R;
                    output[(pixel * 3) + 1] = OutlineColour.G;
                    output[(pixel * 3) + 2] = OutlineColour.B;
                }
            }
        }
        return new RgbImage(image.Width, image.Height, output);
    }

    /// <summary>
    /// The mask's boundary: anomalous pixels with a 4-neighbour that is normal or outside the image, so a defect that
    /// touches the border still gets a closed outline.
    /// </summary>
    public static bool[] Outline(bool[] mask, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var outline = new bool[mask.Length];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var pixel = (y * width) + x;
                outline[pixel] = mask[pixel] && (
                    x == 0 || !mask[pixel - 1] ||
                    x == width - 1 || !mask[pixel + 1] ||
                    y == 0 || !mask[pixel - width] ||
                    y == height - 1 || !mask[pixel + width]);
            }
        }
        return outline;
    }

    /// <summary>The jet colour map at <paramref name="value"/> in [0, 1]: dark blue, cyan, yellow, dark red.</summary>
    public static (byte R, byte G, byte B) Jet(double value)
    {
        static byte Channel(double centre, double v) => (byte)Math.Round(255 * Math.Clamp(1.5 - Math.Abs((4 * v) - centre), 0, 1));
        return (Channel(3, value), Channel(2, value), Channel(1, value));
    }

    /// <summary>
    /// Resizes to <paramref name="size"/> × <paramref name="size"/> bilinearly with half-pixel centres (PyTorch's
    /// align_corners=False, as the model input is resized), rounded to 8 bits: the picture under the map.
    /// </summary>
    public static RgbImage ResizeBilinear(RgbImage image, int size)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (image.Width == size && image.Height == size)
        {
            return image;
        }

        var (rows, rowWeights) = Taps(image.Height, size);
        var (columns, columnWeights) = Taps(image.Width, size);
        var output = new byte[size * size * 3];
        for (var y = 0; y < size; y++)
        {
            var (top, bottom) = rows[y];
            var wy = rowWeights[y];
            for (var x = 0; x < size; x++)
            {
                var (left, right) = columns[x];
                var wx = columnWeights[x];
                for (var c = 0; c < 3; c++)
                {
                    var upper = ((1 - wx) * image[top, left, c]) + (wx * image[top, right, c]);
                    var lower = ((1 - wx) * image[bottom, left, c]) + (wx * image[bottom, right, c]);
                    output[(((y * size) + x) * 3) + c] = (byte)Math.Clamp(Math.Round(((1 - wy) * upper) + (wy * lower)), 0, 255);
                }
            }
        }
        return new RgbImage(size, size, output);
    }

    private static ((int, int)[] Indices, double[] Weights) Taps(int input, int output)
    {
        var indices = new (int, int)[output];
        var weights = new double[output];
        var scale = (double)input / output;
        for (var dst = 0; dst < output; dst++)
        {
            var source = Math.Max(((dst + 0.5) * scale) - 0.5, 0);
            var first = Math.Min((int)source, input - 1);
            indices[dst] = (first, Math.Min(first + 1, input - 1));
            weights[dst] = source - first;
        }
        return (indices, weights);
    }

    private static byte Blend(byte under, byte over, double opacity) =>
        (byte)Math.Round(((1 - opacity) * under) + (opacity * over));
}
