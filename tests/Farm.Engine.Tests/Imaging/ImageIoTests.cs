using Farm.Engine.Imaging;
using Farm.Engine.Tests.Data;
using SkiaSharp;

namespace Farm.Engine.Tests.Imaging;

public sealed class ImageIoTests : IDisposable
{
    private readonly DataTestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void PngRoundTripKeepsEveryByte()
    {
        var image = PatternImage(37, 21);
        var path = _folder.Combine("nested", "pattern.png");

        ImageIo.WritePng(path, image);
        var read = ImageIo.ReadRgb(path);

        Assert.Equal((37, 21), (read.Width, read.Height));
        Assert.Equal(image.Pixels, read.Pixels);
        Assert.Equal((37, 21), ImageIo.ReadSize(path));
    }

    [Fact]
    public void WritesLeaveNoTemporaryFilesAndReplaceExistingOnes()
    {
        var path = _folder.Combine("image.png");
        ImageIo.WritePng(path, PatternImage(8, 8));
        var second = PatternImage(5, 3);

        ImageIo.WritePng(path, second);

        Assert.Equal(second.Pixels, ImageIo.ReadRgb(path).Pixels);
        Assert.Equal(["image.png"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void MaskRoundTripWritesZeroOr255Grayscale()
    {
        var pixels = Enumerable.Range(0, 6 * 4).Select(index => index % 3 == 0).ToArray();
        var path = _folder.Combine("mask.png");

        ImageIo.WriteMaskPng(path, new BinaryMask(6, 4, pixels));

        Assert.Equal(pixels, ImageIo.ReadMask(path).Pixels);
        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal(SKColorType.Gray8, bitmap.ColorType);
        Assert.All(bitmap.Pixels, color => Assert.Contains(color.Red, new byte[] { 0, 255 }));
    }

    [Fact]
    public void GrayscalePngIsReadAsRgbWithEqualChannels()
    {
        var path = _folder.Combine("gray.png");
        var gray = Enumerable.Range(0, 4 * 3).Select(index => (byte)(index * 20)).ToArray();
        WriteEncoded(path, new SKImageInfo(4, 3, SKColorType.Gray8, SKAlphaType.Opaque), gray, SKEncodedImageFormat.Png);

        var image = ImageIo.ReadRgb(path);

        Assert.Equal(gray.SelectMany(value => new[] { value, value, value }), image.Pixels);
    }

    [Fact]
    public void AlphaIsIgnoredNotComposited()
    {
        var path = _folder.Combine("rgba.png");
        byte[] rgba = [200, 100, 50, 0, 10, 20, 30, 128];
        WriteEncoded(path, new SKImageInfo(2, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba, SKEncodedImageFormat.Png);

        var image = ImageIo.ReadRgb(path);

        Assert.Equal(new byte[] { 200, 100, 50, 10, 20, 30 }, image.Pixels);
    }

    [Fact]
    public void MaskPixelIsAnomalousWhenAnyChannelIsNonZero()
    {
        var path = _folder.Combine("colour-mask.png");
        byte[] rgba = [0, 0, 0, 255, 0, 0, 1, 255, 0, 7, 0, 255, 255, 255, 255, 255];
        WriteEncoded(path, new SKImageInfo(4, 1, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba, SKEncodedImageFormat.Png);

        Assert.Equal(new[] { false, true, true, true }, ImageIo.ReadMask(path).Pixels);
    }

    [Fact]
    public void JpegIsDecodedCloseToTheEncodedColours()
    {
        var path = _folder.Combine("flat.JPG");
        var rgba = Enumerable.Repeat(new byte[] { 180, 90, 40, 255 }, 16 * 16).SelectMany(pixel => pixel).ToArray();
        WriteEncoded(path, new SKImageInfo(16, 16, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba, SKEncodedImageFormat.Jpeg);

        var image = ImageIo.ReadRgb(path);

        Assert.Equal((16, 16), (image.Width, image.Height));
        Assert.InRange(image[8, 8, 0], 175, 185);
        Assert.InRange(image[8, 8, 1], 85, 95);
        Assert.InRange(image[8, 8, 2], 35, 45);
    }

    [Fact]
    public void CorruptBytesFailNamingTheFile()
    {
        var path = _folder.Combine("corrupt.png");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9]);

        var sizeError = Assert.Throws<FarmException>(() => ImageIo.ReadSize(path));
        var readError = Assert.Throws<FarmException>(() => ImageIo.ReadRgb(path));

        Assert.Equal(path, sizeError.File);
        Assert.Contains(path, readError.Message);
    }

    [Fact]
    public void TruncatedPngFailsToDecodeThoughItsHeaderIsReadable()
    {
        var path = _folder.Combine("truncated.png");
        ImageIo.WritePng(path, PatternImage(64, 64));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        Assert.Equal((64, 64), ImageIo.ReadSize(path));
        var error = Assert.Throws<FarmException>(() => ImageIo.ReadRgb(path));
        Assert.Equal(path, error.File);
    }

    [Fact]
    public void MissingFileFailsNamingTheFile()
    {
        var path = _folder.Combine("absent.png");

        var error = Assert.Throws<FarmException>(() => ImageIo.ReadMask(path));

        Assert.Equal(path, error.File);
    }

    /// <summary>A deterministic pattern where every byte value differs from its neighbours.</summary>
    private static RgbImage PatternImage(int width, int height) =>
        new(width, height, Enumerable.Range(0, width * height * 3).Select(index => (byte)((index * 37) + (index / 7))).ToArray());

    private static void WriteEncoded(string path, SKImageInfo info, byte[] pixels, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var data = bitmap.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }
}
