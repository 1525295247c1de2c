using Farm.Engine.Randomness;
using Farm.Engine.Imaging;
using Farm.Engine.Robustness;
using Farm.Engine.Tests.Data;
using Farm.Engine.Tests.Reference;
using Xunit.Abstractions;

namespace Farm.Engine.Tests.Robustness;

public class DataDriftTests(ITestOutputHelper output)
{
    private const int Width = 37, Height = 29;

    /// <summary>A non-square, colourful, textured image (so width/height mix-ups and channel mix-ups show).</summary>
    private static RgbImage Pattern()
    {
        var random = new SplitMix64(99);
        var pixels = new byte[Width * Height * 3];
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                var i = ((y * Width) + x) * 3;
                pixels[i] = (byte)(40 + (5 * x) + random.NextInt(20));
                pixels[i + 1] = (byte)(30 + (7 * y) + random.NextInt(20));
                pixels[i + 2] = (byte)((x * y) % 200 + random.NextInt(40));
            }
        }

        return new RgbImage(Width, Height, pixels);
    }

    /// <summary>Black with a white rectangle; the mask marks the rectangle.</summary>
    private static (RgbImage Image, BinaryMask Mask) Square(int size)
    {
        var pixels = new byte[size * size * 3];
        var mask = new bool[size * size];
        for (var y = size / 4; y < size * 5 / 8; y++)
        {
            for (var x = size * 3 / 8; x < size * 3 / 4; x++)
            {
                mask[(y * size) + x] = true;
                pixels.AsSpan(((y * size) + x) * 3, 3).Fill(255);
            }
        }

        return (new RgbImage(size, size, pixels), new BinaryMask(size, size, mask));
    }

    [Fact]
    public void SameSeedAndKeyGiveTheSameDriftRegardlessOfOrder()
    {
        var image = Pattern();
        var mask = BinaryMask.Empty(Width, Height);
        var first = DataDrift.Apply(image, mask, 2, "widget/test/crack/001.png");
        _ = DataDrift.Apply(image, mask, 2, "widget/test/good/000.png");
        var again = DataDrift.Apply(image, mask, 2, "widget/test/crack/001.png");

        Assert.Equal(first.Image.Pixels, again.Image.Pixels);
        Assert.Equal(string.Join(";", first.Transforms), string.Join(";", again.Transforms));
        var differ = Enumerable.Range(0, 10).Count(seed =>
            string.Join(";", DataDrift.Draw(Width, Height, seed, "k")) != string.Join(";", DataDrift.Draw(Width, Height, seed + 100, "k")));
        Assert.True(differ >= 8, $"only {differ} of 10 seed pairs drew different transforms");
    }

    [Fact]
    public void OneOrTwoTransformsFromDifferentCategoriesWithParametersInRange()
    {
        var kinds = new HashSet<DriftKind>();
        var counts = new HashSet<int>();
        for (var i = 0; i < 400; i++)
        {
            var transforms = DataDrift.Draw(64, 48, i % 3, $"image{i}");
            counts.Add(transforms.Count);
            Assert.InRange(transforms.Count, 1, 2);
            Assert.Equal(transforms.Count, transforms.Select(t => t.Category).Distinct().Count());
            foreach (var t in transforms)
            {
                kinds.Add(t.Kind);
                AssertInRange(t, 64, 48);
            }
        }

        Assert.Equal([1, 2], counts.Order());
        Assert.Equal(Enum.GetValues<DriftKind>().Length, kinds.Count);
    }

    private static void AssertInRange(DriftTransform t, int width, int height)
    {
        switch (t.Kind)
        {
            case DriftKind.GaussianBlur:
                Assert.InRange(t["sigma"], 0.1, 1.5);
                break;
            case DriftKind.GaussianNoise:
                Assert.InRange(t["scale"], 0.01, 0.05);
                break;
            case DriftKind.ColorJitter:
                Assert.All(["brightness", "contrast", "saturation"], name => Assert.InRange(t[name], 0.5, 1.5));
                break;
            case DriftKind.RandomShadow:
                Assert.Equal(12, t.Parameters.Count);
                Assert.All(t.Parameters.Values, v => Assert.InRange(v, 0, width));
                break;
            case DriftKind.Rotation:
                Assert.InRange(t["degrees"], -5, 5);
                break;
            case DriftKind.RandomCrop:
                Assert.InRange(t["scale"], 0.8, 1.0);
                Assert.InRange(t["width"] * t["height"] / (width * height), 0.77, 1.0);
                Assert.InRange(t["left"] + t["width"], 1, width);
                Assert.InRange(t["top"] + t["height"], 1, height);
                break;
            case DriftKind.Perspective:
                Assert.All(Enumerable.Range(0, 4), c =>
                {
                    Assert.InRange(Math.Abs(t[$"corner{c}_dx"]), 0, 0.2 * width / 2);
                    Assert.InRange(Math.Abs(t[$"corner{c}_dy"]), 0, 0.2 * height / 2);
                });
                break;
        }
    }

    [Theory]
    [InlineData(DriftKind.Rotation)]
    [InlineData(DriftKind.RandomCrop)]
    [InlineData(DriftKind.Perspective)]
    public void MasksFollowTheGeometry(DriftKind kind)
    {
        var (image, mask) = Square(64);
        var movedCount = 0;
        for (var i = 0; i < 10; i++)
        {
            var transform = DataDrift.DrawTransform(kind, 64, 64, i, "square");
            var (moved, movedMask) = DataDrift.ApplyTransform(image, mask, transform);

            var inside = Enumerable.Range(0, movedMask.Pixels.Length).Where(p => movedMask.Pixels[p]).ToList();
            var bright = Enumerable.Range(0, movedMask.Pixels.Length).Where(p => moved.Pixels[p * 3] > 127).ToList();
            var agree = inside.Intersect(bright).Count();
            var iou = agree / (double)inside.Union(bright).Count();
            Assert.True(iou > 0.9, $"{transform}: mask and content overlap with IoU {iou:F3}");
            movedCount += movedMask.Pixels.SequenceEqual(mask.Pixels) ? 0 : 1;
        }

        // Small draws (a 1° rotation, a 99 % crop) may move a 24-pixel square by less than half a pixel.
        Assert.True(movedCount >= 5, $"only {movedCount} of 10 {kind} draws moved the mask");
    }

    [Fact]
    public void PhotometricTransformsLeaveTheMaskAlone()
    {
        var (image, mask) = Square(32);
        foreach (var kind in new[] { DriftKind.GaussianBlur, DriftKind.GaussianNoise, DriftKind.ColorJitter, DriftKind.RandomShadow })
        {
            var (changed, same) = DataDrift.ApplyTransform(image, mask, DataDrift.DrawTransform(kind, 32, 32, 0, "p"));
            Assert.Equal(mask.Pixels, same.Pixels);
            Assert.NotEqual(image.Pixels, changed.Pixels);
        }
    }

    private static RgbImage Grey(int size, byte level)
    {
        var pixels = new byte[size * size * 3];
        Array.Fill(pixels, level);
        return new RgbImage(size, size, pixels);
    }

    [Fact]
    public void NoiseHasTheDocumentedMeanAndSpread()
    {
        var image = Grey(96, 128);
        var transform = new DriftTransform(DriftKind.GaussianNoise,
            new Dictionary<string, double> { ["scale"] = 0.04, ["noise_seed"] = 12345 });

        var noisy = DataDrift.TransformPlanes(DataDrift.ToPlanes(image), 96, 96, transform);

        // x + scale · (0.5 + 1.0 · z): mean shift 0.02, standard deviation 0.04 (no clamping at mid-grey).
        var deltas = noisy.Select(v => v - (128 / 255.0)).ToArray();
        var mean = deltas.Average();
        var std = Math.Sqrt(deltas.Select(d => (d - mean) * (d - mean)).Average());
        Assert.InRange(mean, 0.02 - 0.002, 0.02 + 0.002);
        Assert.InRange(std, 0.04 * 0.97, 0.04 * 1.03);
        Assert.Equal(noisy, DataDrift.TransformPlanes(DataDrift.ToPlanes(image), 96, 96, transform));
    }

    [Fact]
    public void ShadowLayersHalveBrightnessWhereTheyCover()
    {
        var image = Grey(64, 200);
        var transform = DataDrift.DrawTransform(DriftKind.RandomShadow, 64, 64, 4, "grey");

        var shaded = DataDrift.TransformPlanes(DataDrift.ToPlanes(image), 64, 64, transform);

        // Each pixel is covered by 0 to 3 layers, each blending halfway towards black.
        var levels = shaded.Select(v => Math.Round(v * 255 / 200 * 8)).Distinct().Order().ToList();
        Assert.All(levels, l => Assert.Contains(l, new double[] { 1, 2, 4, 8 }));
        Assert.Contains(8, levels);
        Assert.True(levels.Count >= 2, "no pixel was shaded");
    }

    [Fact]
    public void ApplyEqualsReplayingTheRecordedTransformsInOrder()
    {
        var (image, mask) = Square(48);
        for (var i = 0; i < 20; i++)
        {
            var result = DataDrift.Apply(image, mask, 1, $"img{i}");
            var (replayed, replayedMask) = (image, mask);
            foreach (var transform in result.Transforms)
            {
                (replayed, replayedMask) = DataDrift.ApplyTransform(replayed, replayedMask, transform);
            }

            Assert.Equal(result.Image.Pixels, replayed.Pixels);
            Assert.Equal(result.Mask.Pixels, replayedMask.Pixels);
            Assert.Equal(result.Transforms.Select(t => t.Category).Order(), result.Transforms.Select(t => t.Category));
        }

        Assert.Throws<ArgumentException>(() => DataDrift.Apply(image, BinaryMask.Empty(47, 48), 1, "bad"));
    }

    public static TheoryData<string, double> TorchvisionCases => new()
    {
        { "blur", 0.1 }, { "blur", 0.77 }, { "blur", 1.5 },
        { "rotate", 4.3 }, { "rotate", -5 },
        { "brightness", 1.37 }, { "brightness", 0.55 },
        { "contrast", 0.6 }, { "contrast", 1.45 },
        { "saturation", 0.5 }, { "saturation", 1.4 },
        // For crop and perspective the value is the seed of drawn parameters.
        { "crop", 0 }, { "crop", 1 }, { "crop", 2 }, { "crop", 3 }, { "crop", 4 },
        { "perspective", 0 }, { "perspective", 1 },
    };

    [Theory]
    [MemberData(nameof(TorchvisionCases))]
    public void MatchesTorchvisionFunctional(string op, double value)
    {
        var image = Pattern();
        string[] arguments = [value.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        DriftTransform transform;
        switch (op)
        {
            case "blur":
                transform = new(DriftKind.GaussianBlur, new Dictionary<string, double> { ["sigma"] = value });
                break;
            case "rotate":
                transform = new(DriftKind.Rotation, new Dictionary<string, double> { ["degrees"] = value });
                break;
            case "crop":
                transform = DataDrift.DrawTransform(DriftKind.RandomCrop, Width, Height, (int)value, "reference");
                arguments = [.. new[] { "top", "left", "height", "width" }.Select(name => $"{(int)transform[name]}")];
                break;
            case "perspective":
                transform = DataDrift.DrawTransform(DriftKind.Perspective, Width, Height, (int)value, "reference");
                double[][] corners = [[0, 0], [Width - 1, 0], [Width - 1, Height - 1], [0, Height - 1]];
                arguments = [.. Enumerable.Range(0, 4).SelectMany(c => new[]
                {
                    corners[c][0] + transform[$"corner{c}_dx"], corners[c][1] + transform[$"corner{c}_dy"],
                }).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))];
                break;
            default:
                transform = new(DriftKind.ColorJitter, new Dictionary<string, double>
                {
                    ["brightness"] = op == "brightness" ? value : 1,
                    ["contrast"] = op == "contrast" ? value : 1,
                    ["saturation"] = op == "saturation" ? value : 1,
                });
                break;
        }

        var ours = DataDrift.TransformPlanes(DataDrift.ToPlanes(image), Width, Height, transform);

        using var folder = new DataTestFolder();
        File.WriteAllBytes(folder.Combine("in.raw"), image.Pixels);
        DebianPython.RunScript("drift_reference.py",
            [op, folder.Combine("in.raw"), folder.Combine("out.raw"), $"{Width}", $"{Height}", .. arguments]);
        var reference = new float[3 * Width * Height];
        Buffer.BlockCopy(File.ReadAllBytes(folder.Combine("out.raw")), 0, reference, 0, reference.Length * 4);

        // Both sides are float images before 8-bit rounding, so they should agree to float precision.
        var worst = ours.Zip(reference, (a, b) => Math.Abs(a - b) * 255.0).Max();
        output.WriteLine($"{transform}: max difference {worst:E2} grey levels");
        Assert.True(worst <= 0.01, $"{transform} differs from torchvision by {worst:E2} grey levels");
    }
}
