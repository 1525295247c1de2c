using SkiaSharp;

namespace Farm.Engine.Imaging;

/// <summary>
/// Reads and writes images with SkiaSharp (PNG, JPEG, BMP and whatever else Skia decodes).
/// Colour images are decoded without colour management (embedded ICC profiles are ignored), like PIL does.
/// An alpha channel is ignored, not composited: the stored colour of a transparent pixel is kept, as PIL's
/// <c>convert("RGB")</c> does, so results match Python reference pipelines.
/// </summary>
public static class ImageIo
{
    public static IReadOnlyList<string> ImageExtensions { get; } = [".png", ".jpg", ".jpeg", ".bmp"];

    /// <summary>
    /// The image files directly in <paramref name="folder"/>, in ordinal order. Hidden files are skipped: archives
    /// made on macOS carry "._000.png" resource forks that are not images.
    /// </summary>
    public static IEnumerable<string> ListImages(string folder) =>
        Directory.EnumerateFiles(folder)
            .Where(path => !Path.GetFileName(path).StartsWith('.'))
            .Where(path => ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);

    /// <summary>Decodes an image to 8-bit RGB; grayscale, palette and RGBA images are converted.</summary>
    public static RgbImage ReadRgb(string path)
    {
        var rgba = DecodeRgba(path, out var width, out var height);
        var rgb = new byte[width * height * 3];
        for (int pixel = 0, source = 0, target = 0; pixel < width * height; pixel++, source += 4, target += 3)
        {
            rgb[target] = rgba[source];
            rgb[target + 1] = rgba[source + 1];
            rgb[target + 2] = rgba[source + 2];
        }
        return new RgbImage(width, height, rgb);
    }

    /// <summary>Decodes a ground-truth mask: a pixel is anomalous when any of its colour channels is non-zero (alpha is ignored).</summary>
    public static BinaryMask ReadMask(string path)
    {
        var rgba = DecodeRgba(path, out var width, out var height);
        var anomalous = new bool[width * height];
        for (int pixel = 0, source = 0; pixel < anomalous.Length; pixel++, source += 4)
        {
            anomalous[pixel] = (rgba[source] | rgba[source + 1] | rgba[source + 2]) != 0;
        }
        return new BinaryMask(width, height, anomalous);
    }

    /// <summary>Reads the image size from the file header only, without decoding pixels.</summary>
    public static (int Width, int Height) ReadSize(string path)
    {
        using var codec = OpenCodec(path);
        return (codec.Info.Width, codec.Info.Height);
    }

    /// <summary>Writes an 8-bit RGB PNG atomically (temporary file in the same folder, then rename); creates the folder.</summary>
    public static unsafe void WritePng(string path, RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Pixels.Length != image.Width * image.Height * 3)
        {
            throw new ArgumentException($"RgbImage has {image.Pixels.Length} bytes, expected {image.Width}×{image.Height}×3.", nameof(image));
        }

        var rgba = new byte[image.Width * image.Height * 4];
        for (int pixel = 0, source = 0, target = 0; pixel < image.Width * image.Height; pixel++, source += 3, target += 4)
        {
            rgba[target] = image.Pixels[source];
            rgba[target + 1] = image.Pixels[source + 1];
            rgba[target + 2] = image.Pixels[source + 2];
            rgba[target + 3] = 255;
        }

        // Opaque RGBA: Skia's PNG encoder then stores a 3-channel PNG.
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        fixed (byte* pixels = rgba)
        {
            EncodeAndWrite(path, info, (IntPtr)pixels, image.Width * 4);
        }
    }

    /// <summary>Writes a mask as an 8-bit grayscale PNG (0 = normal, 255 = anomalous), atomically.</summary>
    public static unsafe void WriteMaskPng(string path, BinaryMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.Pixels.Length != mask.Width * mask.Height)
        {
            throw new ArgumentException($"BinaryMask has {mask.Pixels.Length} pixels, expected {mask.Width}×{mask.Height}.", nameof(mask));
        }

        var gray = new byte[mask.Width * mask.Height];
        for (var pixel = 0; pixel < gray.Length; pixel++)
        {
            gray[pixel] = mask.Pixels[pixel] ? (byte)255 : (byte)0;
        }

        var info = new SKImageInfo(mask.Width, mask.Height, SKColorType.Gray8, SKAlphaType.Opaque);
        fixed (byte* pixels = gray)
        {
            EncodeAndWrite(path, info, (IntPtr)pixels, mask.Width);
        }
    }

    private static SKCodec OpenCodec(string path)
    {
        if (!File.Exists(path))
        {
            throw new FarmException("image file not found", path);
        }

        SKCodec? codec;
        SKCodecResult result;
        try
        {
            codec = SKCodec.Create(path, out result);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new FarmException($"cannot open image: {error.Message}", path, inner: error);
        }

        if (codec is null)
        {
            throw new FarmException($"not a readable image ({result})", path);
        }
        if (codec.Info.Width <= 0 || codec.Info.Height <= 0)
        {
            codec.Dispose();
            throw new FarmException("image has no pixels", path);
        }
        return codec;
    }

    private static unsafe byte[] DecodeRgba(string path, out int width, out int height)
    {
        using var codec = OpenCodec(path);
        width = codec.Info.Width;
        height = codec.Info.Height;

        // Unpremultiplied so that alpha does not alter the colour channels; no colour space, so no colour conversion.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[width * height * 4];
        SKCodecResult result;
        fixed (byte* pixels = rgba)
        {
            result = codec.GetPixels(info, (IntPtr)pixels);
        }

        // IncompleteInput means a truncated file: Skia would fill the rest, but the image is corrupt.
        if (result != SKCodecResult.Success)
        {
            throw new FarmException($"cannot decode image ({result})", path);
        }
        return rgba;
    }

    private static void EncodeAndWrite(string path, SKImageInfo info, IntPtr pixels, int rowBytes)
    {
        using var pixmap = new SKPixmap(info, pixels, rowBytes);
        using var data = pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 6))
            ?? throw new FarmException("PNG encoding failed", path);
        WriteAtomically(path, data.AsSpan());
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        var fullPath = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new FarmException($"cannot write image: {error.Message}", path, inner: error);
        }
    }
}
