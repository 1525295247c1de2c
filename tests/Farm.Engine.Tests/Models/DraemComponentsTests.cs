using Farm.Engine.Backbones;
using Farm.Engine.Models.Components;
using Farm.Engine.Tests.Backbones;
using Farm.Engine.Tests.Reference;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>Perlin noise, SSIM and the focal loss: DRAEM's building blocks, each against draem_components_reference.py.</summary>
public class DraemComponentsTests(ITestOutputHelper output)
{
    [Fact]
    public void AllThreeMatchThePlainTorchReference()
    {
        using var folder = new TempFolder();
        using var scope = NewDisposeScope();
        using var generator = new Generator(31);
        // SSIM on two related images (the second a noisy, darkened copy), 3 channels, a size not divisible by 11.
        var a = rand([2, 3, 20, 24], ScalarType.Float64, generator: generator);
        var b = ((0.8 * a) + (0.1 * rand([2, 3, 20, 24], ScalarType.Float64, generator: generator))).clamp(0, 1);
        var probabilities = softmax(randn([2, 2, 6, 5], ScalarType.Float64, generator: generator) * 3, 1);
        var target = (rand([2, 1, 6, 5], ScalarType.Float64, generator: generator) > 0.6).to_type(ScalarType.Float64);
        var perlinShapes = new[] { (32, 32, 1, 1), (32, 64, 4, 2), (48, 40, 3, 5), (64, 64, 32, 16) };
        var data = new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b, ["probabilities"] = probabilities, ["target"] = target };
        var angles = perlinShapes.Select(shape => 2 * Math.PI * rand([shape.Item3 + 1, shape.Item4 + 1], ScalarType.Float64, generator: generator)).ToList();
        for (var i = 0; i < perlinShapes.Length; i++)
        {
            data[$"perlin_angles_{i}"] = angles[i];
            data[$"perlin_size_{i}"] = tensor(new long[] { perlinShapes[i].Item1, perlinShapes[i].Item2 });
        }

        SafeTensors.Save(folder.File("data.safetensors"), data);
        DebianPython.RunScript("draem_components_reference.py", folder.File("data.safetensors"), folder.File("out.safetensors"));
        var reference = SafeTensors.Load(folder.File("out.safetensors"));

        Check("SSIM map", Ssim.Map(a, b), reference["ssim_map"], 1e-12);
        Check("mean SSIM", Ssim.Mean(a, b).view(1), reference["ssim"], 1e-12);
        Check("focal loss", FocalLoss.Compute(probabilities, target).view(1), reference["focal"], 1e-12);
        for (var i = 0; i < perlinShapes.Length; i++)
        {
            var (height, width, _, _) = perlinShapes[i];
            // Float32 output: compared at float32 precision.
            Check($"Perlin noise {perlinShapes[i]}", PerlinNoise.FromAngles(height, width, angles[i]), reference[$"perlin_{i}"], 1e-6);
        }

        foreach (var value in reference.Values)
        {
            value.Dispose();
        }
    }

    private void Check(string what, Tensor actual, Tensor expected, double tolerance)
    {
        var error = TensorTestSupport.RelativeError(actual, expected);
        output.WriteLine($"{what}: relative error {error:E2}");
        Assert.True(error <= tolerance, $"{what}: relative error {error:E2}");
    }

    [Fact]
    public void SsimIsOneForIdenticalImagesSymmetricAndLowerForDifferentOnes()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(32);
        var a = rand([1, 3, 16, 16], generator: generator);
        var b = rand([1, 3, 16, 16], generator: generator);
        Assert.Equal(1.0, Ssim.Mean(a, a).item<float>(), 5);
        Assert.Equal(0.0, Ssim.Loss(a, a).item<float>(), 5);
        Assert.Equal(Ssim.Mean(a, b).item<float>(), Ssim.Mean(b, a).item<float>(), 6);
        var independent = Ssim.Mean(a, b).item<float>();
        var related = Ssim.Mean(a, ((0.9 * a) + (0.1 * b))).item<float>();
        Assert.True(independent < 0.5 && related > 0.9, $"SSIM of independent noise {independent}, of a slightly mixed copy {related}");
        // Constant images away from the zero-padded border: the luminance term alone, (2xy + C1) / (x² + y² + C1).
        var x = full([1, 1, 32, 32], 0.6, ScalarType.Float64);
        var y = full([1, 1, 32, 32], 0.3, ScalarType.Float64);
        var centre = Ssim.Map(x, y)[0, 0, 16, 16].item<double>();
        var c1 = 0.01 * 0.01;
        Assert.Equal(((2 * 0.6 * 0.3) + c1) / ((0.36 + 0.09) + c1), centre, 10);
    }

    [Fact]
    public void FocalLossHasItsClosedFormAndDownweightsEasyPixels()
    {
        using var scope = NewDisposeScope();
        // One pixel of class 1 predicted with p = 0.7: pt = 0.7(1 − s) + 0.3 s + s.
        var probabilities = tensor(new[] { 0.3, 0.7 }, [1, 2, 1, 1]);
        var target = ones(1, 1, 1, 1);
        const double s = 1e-5;
        var pt = (0.7 * (1 - s)) + (0.3 * s) + s;
        Assert.Equal(-Math.Pow(1 - pt, 2) * Math.Log(pt), FocalLoss.Compute(probabilities, target).item<double>(), 12);

        var easy = FocalLoss.Compute(tensor(new[] { 0.05, 0.95 }, [1, 2, 1, 1]), target).item<double>();
        var crossEntropy = -Math.Log(0.95);
        Assert.True(easy < 0.01 * crossEntropy, "a confident correct pixel costs far less than its cross-entropy");
    }

    [Fact]
    public void PerlinNoiseIsSeededBoundedZeroOnTheLatticeAndHasTheLatticeFrequency()
    {
        using var scope = NewDisposeScope();
        Tensor Noise(ulong seed, int res)
        {
            using var generator = new Generator(seed);
            return PerlinNoise.Sample(64, 64, res, res, generator);
        }

        Assert.True(TensorTestSupport.Same(Noise(5, 4), Noise(5, 4)));
        Assert.False(TensorTestSupport.Same(Noise(5, 4), Noise(6, 4)));

        foreach (var res in new[] { 1, 2, 4, 8, 16 })
        {
            var noise = Noise((ulong)res, res);
            Assert.True(noise.abs().max().item<float>() <= 1.0f + 1e-6f, $"res {res}: |noise| exceeds 1");
            Assert.True(noise.std().item<float>() > 0.1f, $"res {res}: flat noise");
            var period = 64 / res;
            var lattice = noise[TensorIndex.Slice(0, null, period), TensorIndex.Slice(0, null, period)];
            Assert.Equal(0f, lattice.abs().max().item<float>(), 6);
        }

        // Spatial frequency: the mean absolute difference between neighbouring pixels grows with the lattice
        // resolution, about in proportion (a cell spans 64/res pixels).
        double Roughness(int res)
        {
            var values = Enumerable.Range(0, 8).Select(seed =>
            {
                var noise = Noise((ulong)(100 + seed), res);
                return (noise[.., 1..] - noise[.., ..^1]).abs().mean().item<float>();
            });
            return values.Average();
        }

        var (coarse, fine) = (Roughness(2), Roughness(8));
        output.WriteLine($"mean neighbour difference: res 2 {coarse:F4}, res 8 {fine:F4} (ratio {fine / coarse:F2})");
        Assert.InRange(fine / coarse, 3.0, 5.0);
    }

    [Fact]
    public void FractalNoiseAddsOctavesAtDoubledResolutions()
    {
        using var scope = NewDisposeScope();
        using var first = new Generator(9);
        using var second = new Generator(9);
        var fractal = PerlinNoise.Fractal(32, 32, 2, 2, 3, 0.5, first);
        var expected = PerlinNoise.Sample(32, 32, 2, 2, second) + (0.5 * PerlinNoise.Sample(32, 32, 4, 4, second))
                       + (0.25 * PerlinNoise.Sample(32, 32, 8, 8, second));
        Assert.True(TensorTestSupport.RelativeError(fractal, expected) < 1e-6);
    }
}
