using Farm.Engine.Imaging;

namespace Farm.Engine.Tests.Imaging;

public class AnomalyOverlayTests
{
    private static RgbImage Gray(int size, byte level) => new(size, size, Enumerable.Repeat(level, size * size * 3).ToArray());

    [Fact]
    public void AColdMapLeavesTheImageAndAHotOneBlendsJetRedAtMaxOpacity()
    {
        var image = Gray(4, 100);
        var map = new float[16];
        map[5] = 2f; // hot: the top of the range

        var overlay = AnomalyOverlay.Render(image, map, mask: null, low: 0, high: 2);

        Assert.Equal(image.Pixels[..15], overlay.Pixels[..15]);
        var (r, g, b) = AnomalyOverlay.Jet(1);
        Assert.Equal((128, 0, 0), (r, g, b));
        Assert.Equal([(byte)Math.Round((0.4 * 100) + (0.6 * 128)), (byte)40, (byte)40], overlay.Pixels[15..18]);
    }

    [Fact]
    public void TheMaskOutlineIsDrawnOnItsBoundaryOnly()
    {
        // A 3×3 square in a 5×5 image: its 8 border pixels are the outline, its centre is not.
        var mask = new bool[25];
        foreach (var y in new[] { 1, 2, 3 })
        {
            foreach (var x in new[] { 1, 2, 3 })
            {
                mask[(y * 5) + x] = true;
            }
        }

        var overlay = AnomalyOverlay.Render(Gray(5, 50), new float[25], mask, 0, 1);

        var green = Enumerable.Range(0, 25).Where(p => overlay.Pixels[p * 3] == 0 && overlay.Pixels[(p * 3) + 1] == 255).ToList();
        Assert.Equal([6, 7, 8, 11, 13, 16, 17, 18], green);
        Assert.Equal([50, 50, 50], overlay.Pixels[36..39]);
    }

    [Fact]
    public void ResizeUsesHalfPixelCentres()
    {
        // 2 × 1 → 4 × 4: columns sample at source x = -0.25 (clamped), 0.25, 0.75, 1.25 (clamped to the last pixel).
        var image = new RgbImage(2, 1, [0, 0, 0, 200, 200, 200]);
        var resized = AnomalyOverlay.ResizeBilinear(image, 4);
        Assert.Equal([0, 50, 150, 200], Enumerable.Range(0, 4).Select(x => (int)resized[2, x, 0]));
        var square = Gray(3, 7);
        Assert.Same(square, AnomalyOverlay.ResizeBilinear(square, 3));
    }

    [Fact]
    public void MismatchedSizesAreRefused() =>
        Assert.Throws<ArgumentException>(() => AnomalyOverlay.Render(Gray(4, 0), new float[15], null, 0, 1));
}
