using System.Globalization;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.SimpleNet;
using Farm.Engine.Tests.Backbones;
using Farm.Engine.Tests.Reference;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// SimpleNet against simplenet_reference.py (torchvision resnet18 with the same weights; the patch features built in the
/// authors' order: layer3's unfolded neighbourhoods resized before pooling, where Farm pools first): the patch features
/// and loss of one batch with the same noise, every adaptor and discriminator tensor after one step of both optimisers
/// (AdamW and Adam), and the maps and scores of test images afterwards. Float32 through the detector as the pipeline
/// runs it (its first noise draw reproduced from its seed); float64 through the detector's static pieces, where the
/// weights after the step must agree to 1e-4 (Adam's first step amplifies float32 rounding of gradients near its ε).
/// </summary>
public class SimpleNetParityTests(ITestOutputHelper output)
{
    private const int Size = 64;

    private const double Tolerance = 1e-4;

    private readonly OneStepParity parity = new(output, Tolerance);

    /// <summary>
    /// Float32 weights after the step: Adam's first update is lr·g/(|g| + ε), ε = 1e-8, so an entry whose gradient is
    /// within a few ε of zero moves by an amount that hangs on g's last float32 bits (the zero-initialised batch-norm
    /// bias has several). Such entries may differ by up to two updates (a step the other way); all others must agree to 1e-3 of the tensor's
    /// largest update, and they must be at least <see cref="Float32AgreeingShare"/> of every tensor.
    /// </summary>
    private const double Float32UpdateTolerance = 1e-3;

    private const double Float32AgreeingShare = 0.97;

    /// <summary>
    /// Float32 maps and scores after the step: the two biases whose training gradient is zero (see
    /// <see cref="CheckFloat32Update"/>) take an arbitrary first step, which eval-mode batch norm (running statistics)
    /// passes on to the scores; observed 1.9e-4 at D = 200. The float64 scores hold 1e-4.
    /// </summary>
    private const double Float32MapTolerance = 1e-3;

    [Theory]
    [InlineData(1536)]
    [InlineData(200)]
    public void OneOptimiserStepAndAnomalyMapsMatchTheTorchReference(int dimension)
    {
        using var folder = new TempFolder();
        var weights = folder.File("backbone.safetensors");
        using (var backbone = ResNet.ResNet18(seed: 61))
        {
            TensorTestSupport.RandomiseBatchNorms(backbone, seed: 62);
            SafeTensors.Save(weights, backbone.state_dict());
        }

        using var train = TensorTestSupport.Randn(63, 4, 3, Size, Size);
        using var fresh = TensorTestSupport.Randn(64, 2, 3, Size, Size);
        using var test = cat([train[..1], fresh], 0);
        test[0, .., 8..24, 8..24] += 2f;

        const int seed = 65;
        var options = new ModelOptions(Size, seed, Backbone: "resnet18", WeightsPath: weights, Options: new Dictionary<string, string>
        {
            ["epochs"] = "1", ["embed_dim"] = dimension.ToString(CultureInfo.InvariantCulture),
        });
        using var detector = (SimpleNetDetector)ModelRegistry.Create("simplenet", options);
        var patches = 4L * detector.FeatureSize * detector.FeatureSize;
        // The detector's first noise draw: the same seeded stream.
        using var noiseGenerator = SimpleNetDetector.NoiseGenerator(seed);
        using var noise = SimpleNetDetector.DrawNoise(noiseGenerator, [patches, dimension], detector.NoiseStd);
        var modulePath = folder.File("module.safetensors");
        SafeTensors.Save(modulePath, detector.Module.state_dict());
        SafeTensors.Save(folder.File("data.safetensors"), new Dictionary<string, Tensor> { ["train"] = train, ["noise"] = noise, ["test"] = test });
        DebianPython.RunScript("simplenet_reference.py", weights, modulePath, folder.File("data.safetensors"), folder.File("out.safetensors"),
            dimension.ToString(CultureInfo.InvariantCulture));
        var reference = SafeTensors.Load(folder.File("out.safetensors"));
        var initial = SafeTensors.Load(modulePath);

        // float32: the detector itself.
        using (var features = SimpleNetFeatures.Extract(detector.Backbone, train, dimension))
        {
            parity.Check($"f32 features D={dimension}", features, reference["f32.features"]);
        }

        Assert.Equal(1, detector.Train(_ => [train]));
        var scored = detector.Predict(test);
        using var maps32 = tensor(scored.Maps.SelectMany(map => map).ToArray(), [3, Size, Size]);
        using var scores32 = tensor(scored.ImageScores, [3]);
        parity.CheckScalar("f32 loss", detector.EpochLosses[0], reference["f32.loss"]);
        CheckFloat32Update(detector.Module, reference, initial);
        parity.Check("f32 maps", maps32, reference["f32.maps"], Float32MapTolerance);
        parity.Check("f32 scores", scores32, reference["f32.scores"], Float32MapTolerance);

        // float64: the same step through the detector's parts.
        using var backbone64 = ResNet.ResNet18(seed: 0);
        BackboneWeights.Load(backbone64, weights);
        backbone64.to(ScalarType.Float64);
        using var generator = new Generator(0);
        using var module = new SimpleNetModule(dimension, generator);
        module.load_state_dict(initial);
        module.to(ScalarType.Float64);
        module.train();
        var optimizers = SimpleNetDetector.CreateOptimizers(module);
        using (var step = NewDisposeScope())
        {
            var features = SimpleNetFeatures.Extract(backbone64, train.to_type(ScalarType.Float64), dimension);
            parity.Check("f64 features", features, reference["f64.features"]);
            var loss = SimpleNetDetector.Loss(module, features, noise.to_type(ScalarType.Float64));
            optimizers.ToList().ForEach(optimizer => optimizer.zero_grad());
            loss.backward();
            optimizers.ToList().ForEach(optimizer => optimizer.step());
            parity.CheckScalar("f64 loss", loss.item<double>(), reference["f64.loss"]);
        }

        module.eval();
        parity.CheckState("f64", module, reference, initial, Tolerance);
        using (var map = NewDisposeScope())
        using (var noGrad = no_grad())
        {
            var features = SimpleNetFeatures.Extract(backbone64, test.to_type(ScalarType.Float64), dimension);
            var patchScores = SimpleNetDetector.PatchScores(module, features, 3, detector.FeatureSize);
            parity.Check("f64 scores", patchScores.amax([1, 2, 3]), reference["f64.scores"]);
        }

        using var referenceMaps = reference["f32.maps"];
        var (low, high) = (referenceMaps.min().item<float>(), referenceMaps.max().item<float>());
        Assert.True(high - low > 0.01 * Math.Abs(high), $"reference maps are nearly constant: [{low}, {high}]");
        foreach (var optimizer in optimizers)
        {
            optimizer.Dispose();
        }

        foreach (var value in reference.Values.Concat(initial.Values))
        {
            value.Dispose();
        }
    }

    /// <summary>The float32 step, entry by entry, against the reference's (see <see cref="Float32UpdateTolerance"/>).</summary>
    private void CheckFloat32Update(nn.Module module, IReadOnlyDictionary<string, Tensor> reference, IReadOnlyDictionary<string, Tensor> initial)
    {
        var state = module.state_dict();
        var leastShare = 1.0;
        foreach (var (name, value) in state.Where(entry => entry.Value.is_floating_point()))
        {
            if (name is "adaptor.bias" or "discriminator.hidden.bias")
            {
                // Their gradients are zero in exact arithmetic (a shift common to every row cancels in the
                // discriminator's training-mode batch norm), so their first Adam step is the sign of rounding noise;
                // the float64 run checks them.
                continue;
            }

            using var scope = NewDisposeScope();
            var start = initial[name].to_type(ScalarType.Float64);
            var actual = value.to_type(ScalarType.Float64) - start;
            var expected = reference[$"f32.state.{name}"].to_type(ScalarType.Float64) - start;
            var largest = expected.abs().max().item<double>();
            Assert.True(largest > 0, $"f32 {name} did not change in the reference's step");
            var difference = (actual - expected).abs();
            var worst = difference.max().item<double>();
            // An entry whose gradient is within ε of zero may even step the other way: at most twice the largest update.
            Assert.True(worst <= 2 * largest, $"f32 {name}: an entry's update differs by {worst:E2}, more than twice the largest update {largest:E2}");
            var share = difference.le(Float32UpdateTolerance * largest).to_type(ScalarType.Float64).mean().item<double>();
            Assert.True(share >= Float32AgreeingShare, $"f32 {name}: only {share:P1} of the entries' updates agree to {Float32UpdateTolerance:E0} of the largest");
            leastShare = Math.Min(leastShare, share);
        }

        output.WriteLine($"f32: {state.Count} tensors after one step; at least {leastShare:P2} of every tensor's updates agree to {Float32UpdateTolerance:E0}");
    }
}
