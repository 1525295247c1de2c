using Farm.Engine.Backbones;
using Farm.Engine.Imaging;
using Farm.Engine.Tests.Backbones;
using Farm.Engine.Tests.Reference;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Imaging;

public class PreprocessingTests
{
    [Fact]
    public void ToBatchMatchesTorchInterpolateAndNormalize()
    {
        // Down-, up- and same-size cases, non-square, odd ratios.
        var images = new[] { RandomImage(50, 37, 1), RandomImage(64, 64, 2), RandomImage(100, 80, 3), RandomImage(17, 29, 4) };
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        var input = images.Select((image, i) => new KeyValuePair<string, Tensor>(
            $"image{i}", tensor(image.Pixels.Select(value => (float)value).ToArray(), [image.Height, image.Width, 3])));
        SafeTensors.Save(folder.File("images.safetensors"), input);
        DebianPython.RunScript("preprocess_reference.py", "images", folder.File("images.safetensors"), folder.File("out.safetensors"), "64");
        var expected = SafeTensors.Load(folder.File("out.safetensors"))["batch"];

        var batch = Preprocessing.ToBatch(images, 64);
        Assert.Equal(new long[] { 4, 3, 64, 64 }, batch.shape);
        Assert.Equal(ScalarType.Float32, batch.dtype);
        var maxDifference = (batch - expected).abs().max().item<float>();
        Assert.True(maxDifference <= 1e-5f, $"max difference {maxDifference:E2} to torch exceeds 1e-5");
        // Same-size images are not resampled: pixel (0,0) of image 1 is exactly its normalised byte value.
        var exact = ((images[1][0, 0, 0] / 255f) - 0.485f) / 0.229f;
        Assert.Equal(exact, batch[1, 0, 0, 0].item<float>(), 5);
        expected.Dispose();
    }

    [Fact]
    public void ResizeMaskMatchesTorchNearest()
    {
        var masks = new[] { RandomMask(50, 37, 5), RandomMask(32, 32, 6), RandomMask(100, 80, 7), RandomMask(64, 64, 8), RandomMask(21, 45, 9) };
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        foreach (var size in new[] { 64, 96 })
        {
            var input = masks.Select((mask, i) => new KeyValuePair<string, Tensor>(
                $"mask{i}", tensor(mask.Pixels.Select(on => on ? 1f : 0f).ToArray(), [mask.Height, mask.Width])));
            SafeTensors.Save(folder.File("masks.safetensors"), input);
            var output = folder.File($"out{size}.safetensors");
            DebianPython.RunScript("preprocess_reference.py", "masks", folder.File("masks.safetensors"), output, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var expected = SafeTensors.Load(output);
            for (var i = 0; i < masks.Length; i++)
            {
                var resized = Preprocessing.ResizeMask(masks[i], size);
                Assert.Equal(size, resized.Width);
                var reference = expected[$"mask{i}"].data<float>().ToArray().Select(value => value > 0.5f).ToArray();
                Assert.Equal(reference, resized.Pixels);
            }
        }
    }

    [Fact]
    public void BadInputsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => Preprocessing.ToBatch([], 64));
        Assert.Throws<ArgumentException>(() => Preprocessing.ToBatch([new RgbImage(4, 4, new byte[10])], 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessing.ResizeMask(BinaryMask.Empty(4, 4), 0));
    }

    private static RgbImage RandomImage(int width, int height, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 3];
        random.NextBytes(pixels);
        return new RgbImage(width, height, pixels);
    }

    private static BinaryMask RandomMask(int width, int height, int seed)
    {
        var random = new Random(seed);
        return new BinaryMask(width, height, Enumerable.Range(0, width * height).Select(_ => random.NextDouble() < 0.3).ToArray());
    }
}
