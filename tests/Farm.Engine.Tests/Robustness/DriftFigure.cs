using Farm.Engine.Data;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Imaging;
using Farm.Engine.Robustness;
using Farm.Engine.Tests.Data;

namespace Farm.Engine.Tests.Robustness;

/// <summary>
/// Renders docs/drift.png: one synthetic widget test image (its mask outlined in red) under each drift transform.
/// The test renders into a temp folder; set FARM_DRIFT_FIGURE to a path to keep a copy (done once for docs/).
/// </summary>
public class DriftFigure
{
    private const int Size = 128, Margin = 8, LabelHeight = 20, FontScale = 2;

    [Fact]
    public void RendersALabelledGridOfEveryTransform()
    {
        using var folder = new DataTestFolder();
        var root = folder.Combine("synthetic");
        SyntheticDatasetGenerator.Generate(root, new SyntheticDatasetOptions
        {
            Seed = 3, Size = Size, TrainCount = 1, TestGoodCount = 1, TestPerDefectType = 1, Categories = ["widget"],
        });
        var sample = MvtecDataset.LoadCategory(root, "widget").Test.First(s => s.IsAnomalous && s.MaskPath is not null);
        var image = ImageIo.ReadRgb(sample.ImagePath);
        var mask = ImageIo.ReadMask(sample.MaskPath!);

        var cells = new List<(string Label, RgbImage Image, BinaryMask Mask)> { ("original", image, mask) };
        foreach (var kind in Enum.GetValues<DriftKind>())
        {
            // Seed chosen so the geometric examples are visibly moved.
            var transform = DataDrift.DrawTransform(kind, Size, Size, 1, sample.RelativePath);
            var (drifted, driftedMask) = DataDrift.ApplyTransform(image, mask, transform);
            cells.Add((Labels[kind], drifted, driftedMask));
        }

        var grid = Render(cells);
        var path = folder.Combine("drift.png");
        ImageIo.WritePng(path, grid);
        Assert.Equal((cells.Count * (Size + Margin)) + Margin, ImageIo.ReadSize(path).Width);
        if (Environment.GetEnvironmentVariable("FARM_DRIFT_FIGURE") is { Length: > 0 } keep)
        {
            File.Copy(path, keep, overwrite: true);
        }
    }

    private static readonly Dictionary<DriftKind, string> Labels = new()
    {
        [DriftKind.GaussianBlur] = "blur",
        [DriftKind.GaussianNoise] = "noise",
        [DriftKind.ColorJitter] = "jitter",
        [DriftKind.RandomShadow] = "shadow",
        [DriftKind.Rotation] = "rotate",
        [DriftKind.RandomCrop] = "crop",
        [DriftKind.Perspective] = "perspective",
    };

    private static RgbImage Render(IReadOnlyList<(string Label, RgbImage Image, BinaryMask Mask)> cells)
    {
        var width = (cells.Count * (Size + Margin)) + Margin;
        var height = LabelHeight + Size + Margin;
        var pixels = new byte[width * height * 3];
        Array.Fill(pixels, (byte)255);
        for (var cell = 0; cell < cells.Count; cell++)
        {
            var (label, image, mask) = cells[cell];
            var left = Margin + (cell * (Size + Margin));
            DrawText(pixels, width, left, 3, label);
            for (var y = 0; y < Size; y++)
            {
                for (var x = 0; x < Size; x++)
                {
                    var target = ((((LabelHeight + y) * width) + left + x) * 3);
                    var edge = mask.Pixels[(y * Size) + x] && IsEdge(mask, x, y);
                    for (var c = 0; c < 3; c++)
                    {
                        pixels[target + c] = edge ? (byte)(c == 0 ? 255 : 0) : image[y, x, c];
                    }
                }
            }
        }

        return new RgbImage(width, height, pixels);
    }

    private static bool IsEdge(BinaryMask mask, int x, int y) =>
        x == 0 || y == 0 || x == mask.Width - 1 || y == mask.Height - 1
        || !mask.Pixels[(y * mask.Width) + x - 1] || !mask.Pixels[(y * mask.Width) + x + 1]
        || !mask.Pixels[((y - 1) * mask.Width) + x] || !mask.Pixels[((y + 1) * mask.Width) + x];

    private static void DrawText(byte[] pixels, int width, int left, int top, string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var glyph = Font[text[i]];
            for (var row = 0; row < 7; row++)
            {
                for (var col = 0; col < 5; col++)
                {
                    if (glyph[row][col] != '#')
                    {
                        continue;
                    }

                    for (var dy = 0; dy < FontScale; dy++)
                    {
                        for (var dx = 0; dx < FontScale; dx++)
                        {
                            var x = left + (i * 6 * FontScale) + (col * FontScale) + dx;
                            var y = top + (row * FontScale) + dy;
                            pixels.AsSpan(((y * width) + x) * 3, 3).Clear();
                        }
                    }
                }
            }
        }
    }

    // A 5 × 7 bitmap font for the few lower-case letters the labels use.
    private static readonly Dictionary<char, string[]> Font = new()
    {
        ['a'] = [".....", ".....", ".###.", "....#", ".####", "#...#", ".####"],
        ['b'] = ["#....", "#....", "####.", "#...#", "#...#", "#...#", "####."],
        ['c'] = [".....", ".....", ".####", "#....", "#....", "#....", ".####"],
        ['d'] = ["....#", "....#", ".####", "#...#", "#...#", "#...#", ".####"],
        ['e'] = [".....", ".....", ".###.", "#...#", "#####", "#....", ".###."],
        ['g'] = [".....", ".####", "#...#", "#...#", ".####", "....#", ".###."],
        ['h'] = ["#....", "#....", "####.", "#...#", "#...#", "#...#", "#...#"],
        ['i'] = ["..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."],
        ['j'] = ["...#.", ".....", "..##.", "...#.", "...#.", "#..#.", ".##.."],
        ['l'] = [".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['n'] = [".....", ".....", "####.", "#...#", "#...#", "#...#", "#...#"],
        ['o'] = [".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."],
        ['p'] = [".....", ".....", "####.", "#...#", "####.", "#....", "#...."],
        ['r'] = [".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."],
        ['s'] = [".....", ".....", ".####", "#....", ".###.", "....#", "####."],
        ['t'] = [".#...", ".#...", "####.", ".#...", ".#...", ".#..#", "..##."],
        ['u'] = [".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"],
        ['v'] = [".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
        ['w'] = [".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."],
        ['x'] = [".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"],
    };
}
