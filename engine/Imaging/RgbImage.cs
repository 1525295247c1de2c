namespace Farm.Engine.Imaging;

/// <summary>An 8-bit RGB image, row-major, interleaved (H × W × 3).</summary>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    public byte this[int y, int x, int c] => Pixels[((y * Width) + x) * 3 + c];
}

/// <summary>A binary pixel mask, row-major (H × W); true = anomalous.</summary>
public sealed record BinaryMask(int Width, int Height, bool[] Pixels)
{
    public static BinaryMask Empty(int width, int height) => new(width, height, new bool[width * height]);
}
