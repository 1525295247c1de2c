using Farm.Engine.Models.Draem;
using Farm.Engine.Tests.Backbones;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>DRAEM's simulated anomalies and the texture augmentations they use.</summary>
public class DraemAugmentationTests
{
    [Fact]
    public void SimulationIsSeededMasksAreBinaryAndOnlyMaskedPixelsChange()
    {
        using var scope = NewDisposeScope();
        using var imageGenerator = new Generator(1);
        var images = rand([16, 3, 32, 32], generator: imageGenerator);
        var simulator = new AnomalySimulator(32, []);

        (Tensor Target, Tensor Augmented, Tensor Mask) Run(ulong seed)
        {
            using var generator = new Generator(seed);
            return simulator.Simulate(images, generator);
        }

        var (target, augmented, mask) = Run(7);
        var again = Run(7);
        Assert.True(TensorTestSupport.Same(augmented, again.Augmented) && TensorTestSupport.Same(mask, again.Mask)
                    && TensorTestSupport.Same(target, again.Target));
        Assert.False(TensorTestSupport.Same(augmented, Run(8).Augmented));

        Assert.Equal(new long[] { 16, 1, 32, 32 }, mask.shape);
        Assert.True(((mask == 0) | (mask == 1)).all().item<bool>(), "the mask is 0/1");
        Assert.True(augmented.min().item<float>() >= 0 && augmented.max().item<float>() <= 1, "the anomalous image stays in [0, 1]");
        // Outside the mask the anomalous image is the target; inside it differs somewhere.
        Assert.Equal(0f, ((augmented - target).abs() * (1 - mask)).max().item<float>());
        var anomalous = (mask.sum([1, 2, 3]) > 0).sum().item<long>();
        Assert.InRange(anomalous, 3, 13);
        Assert.True(((augmented - target).abs() * mask).sum().item<float>() > 0, "no masked pixel changed");
    }

    [Fact]
    public void AboutHalfTheImagesStayNormalAndAboutAThirdAreRotated()
    {
        using var scope = NewDisposeScope();
        var images = ones(1, 3, 32, 32) * 0.5f;
        var simulator = new AnomalySimulator(32, []);
        using var generator = new Generator(11);
        var (normal, rotated) = (0, 0);
        const int draws = 200;
        for (var i = 0; i < draws; i++)
        {
            using var inner = NewDisposeScope();
            var (target, _, mask) = simulator.Simulate(images, generator);
            normal += mask.sum().item<float>() == 0 ? 1 : 0;
            // A rotated uniform image has black corners.
            rotated += target[0, 0, 0, 0].item<float>() < 0.25f ? 1 : 0;
        }

        Assert.InRange(normal, 0.5 * draws - 30, 0.5 * draws + 40); // some anomaly masks come out empty
        Assert.InRange(rotated, 0.3 * draws - 30, 0.3 * draws + 30);
    }

    [Fact]
    public void PerlinMasksCoverVaryingShares()
    {
        using var scope = NewDisposeScope();
        var simulator = new AnomalySimulator(64, []);
        using var generator = new Generator(3);
        var shares = Enumerable.Range(0, 40).Select(_ => simulator.Mask(generator).mean().item<float>()).ToList();
        Assert.All(shares, share => Assert.InRange(share, 0f, 0.6f));
        Assert.True(shares.Count(share => share > 0) >= 20, "most masks mark something");
        Assert.True(shares.Max() > 0.05, "some masks are large");
    }

    [Fact]
    public void EveryAugmentationKeepsShapeAndRangeAndTheyDiffer()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(21);
        var texture = AnomalySimulator.Procedural(32, generator);
        Assert.Equal(new long[] { 3, 32, 32 }, texture.shape);
        var outputs = new List<Tensor>();
        for (var index = 0; index < TextureAugmentations.Count; index++)
        {
            var output = TextureAugmentations.Apply(index, texture, generator);
            Assert.Equal(texture.shape, output.shape);
            Assert.True(output.min().item<float>() >= -1e-6 && output.max().item<float>() <= 1 + 1e-6, $"augmentation {index} leaves [0, 1]");
            outputs.Add(output);
        }

        Assert.True(TensorTestSupport.Same(1 - texture, outputs[6]), "invert");
        Assert.Equal(TextureAugmentations.Count, outputs.Select(o => string.Join(",", o.flatten()[..50].data<float>().ToArray())).Distinct().Count());
    }

    [Fact]
    public void HsvRoundTripsAndHueTurnsColours()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(22);
        var rgb = rand([3, 8, 8], generator: generator);
        var (h, s, v) = TextureAugmentations.ToHsv(rgb);
        Assert.True(TensorTestSupport.RelativeError(TextureAugmentations.FromHsv(h, s, v), rgb) < 1e-5);
        // Pure red is hue 0; a third of a turn makes it pure green.
        var red = tensor(new[] { 1f, 0f, 0f }, [3, 1, 1]);
        var (hr, sr, vr) = TextureAugmentations.ToHsv(red);
        var green = TextureAugmentations.FromHsv(hr + (1f / 3), sr, vr).flatten().data<float>().ToArray();
        Assert.Equal([0f, 1f, 0f], green.Select(value => MathF.Round(value, 5)));
    }

    [Fact]
    public void HistogramLookupsFollowPil()
    {
        // Two values, 100 and 200, equally often: autocontrast stretches them to 0 and 255; equalize maps the lower to
        // 0 and the upper to step/2 // step … PIL's rule: step = (n − last count) / 255 = 50/255 = 0 → identity.
        var histogram = new long[256];
        histogram[100] = 50;
        histogram[200] = 50;
        var stretched = TextureAugmentations.AutocontrastLookup(histogram, 0);
        Assert.Equal(0, stretched[100]);
        Assert.InRange(stretched[200], 254, 255); // PIL truncates 200 · 2.55 − 255 in double precision, as here
        Assert.Equal(127, stretched[150]);
        Assert.Equal(Enumerable.Range(0, 256), TextureAugmentations.EqualizeLookup(histogram));

        // 1000 pixels spread evenly over 0…9 (100 each): step = 900 / 255 = 3; lut[i] = (1 + 100 i) / 3.
        var even = new long[256];
        for (var i = 0; i < 10; i++)
        {
            even[i] = 100;
        }

        var equalized = TextureAugmentations.EqualizeLookup(even);
        Assert.Equal([0, 33, 67, 100, 133, 167, 200, 233], equalized.Take(8));
        // A 10 % cutoff removes the lowest and the highest value: 1 → 0 and 8 → 255.
        var cut = TextureAugmentations.AutocontrastLookup(even, 10);
        Assert.Equal(0, cut[1]);
        Assert.InRange(cut[8], 254, 255);
    }
}
