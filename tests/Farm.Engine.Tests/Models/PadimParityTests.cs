using System.Globalization;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.Padim;
using Farm.Engine.Tests.Backbones;
using Farm.Engine.Tests.Reference;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class PadimParityTests(ITestOutputHelper output)
{
    /// <summary>Relative error allowed on maps and scores, float64 and float32 statistics alike (float32 measured 1e-6 to 6e-6 here).</summary>
    private const double Tolerance = 1e-4;

    /// <summary>
    /// The detector against padim_reference.py (torchvision resnet18 with the same weights, statistics in float64):
    /// all 448 channels at 32 px, a 100-channel subset (the detector's own index, handed to the reference) at 64 px, and
    /// the `layers` setting (layer2 + layer3, all 384 channels, on the coarser layer2 grid). The float32 rows run
    /// anomalib's arithmetic (accumulator and inverse in float32) against the same float64 reference.
    /// </summary>
    [Theory]
    [InlineData(32, 448, "1,2,3", "float64")]
    [InlineData(64, 100, "1,2,3", "float64")]
    [InlineData(64, 384, "2,3", "float64")]
    [InlineData(32, 448, "1,2,3", "float32")]
    [InlineData(64, 100, "1,2,3", "float32")]
    public void AnomalyMapsAndScoresMatchTheTorchReference(int size, int features, string layers, string precision)
    {
        using var folder = new TempFolder();
        var weights = folder.File("weights.safetensors");
        using (var backbone = ResNet.ResNet18(seed: 41))
        {
            TensorTestSupport.RandomiseBatchNorms(backbone, seed: 42);
            SafeTensors.Save(weights, backbone.state_dict());
        }

        using var train = TensorTestSupport.Randn(43, 10, 3, size, size);
        // Test images 0 and 1 are training images (0 with a brightened patch), 2 and 3 fresh noise: the maps then
        // have structure (low in-sample, high on the patch and on unseen images), not just noise.
        using var fresh = TensorTestSupport.Randn(44, 2, 3, size, size);
        using var test = cat([train[..2], fresh], 0);
        test[0, .., 4..12, 4..12] += 2f;

        var options = new ModelOptions(size, Seed: 45, Backbone: "resnet18", WeightsPath: weights,
            Options: new Dictionary<string, string>
            {
                ["n_features"] = features.ToString(CultureInfo.InvariantCulture),
                ["layers"] = string.Join(",", layers.Split(',').Select(layer => $"layer{layer}")),
                ["accumulator"] = precision,
                ["inverse"] = precision,
            });
        using var detector = (PadimDetector)ModelRegistry.Create("padim", options);
        Assert.Equal(features, detector.Model.Channels);
        // Two batches: the fit must combine streamed statistics exactly.
        detector.Fit([train[..6], train[6..]]);
        var scored = detector.Predict(test);

        SafeTensors.Save(folder.File("data.safetensors"), new Dictionary<string, Tensor>
        {
            ["train"] = train, ["test"] = test, ["index"] = detector.Model.ChannelIndex,
        });
        DebianPython.RunScript("padim_reference.py", weights, folder.File("data.safetensors"), folder.File("out.safetensors"), layers);
        var reference = SafeTensors.Load(folder.File("out.safetensors"));
        using var expectedMaps = reference["maps"];
        using var expectedScores = reference["scores"];

        using var maps = tensor(scored.Maps.SelectMany(map => map).ToArray(), [4, size, size]);
        using var scores = tensor(scored.ImageScores, [4]);
        var mapError = TensorTestSupport.RelativeError(maps, expectedMaps);
        output.WriteLine($"S={size} C={features} {precision}: map relative error {mapError:E2}");
        Assert.True(mapError <= Tolerance, $"map relative error {mapError:E2} exceeds {Tolerance:E0}");
        var expected = expectedScores.data<double>().ToArray();
        for (var i = 0; i < 4; i++)
        {
            var error = Math.Abs(scored.ImageScores[i] - expected[i]) / expected[i];
            output.WriteLine($"image {i}: score {scored.ImageScores[i]} vs reference {expected[i]} (relative error {error:E2})");
            Assert.True(error <= Tolerance, $"image {i}: score {scored.ImageScores[i]} vs reference {expected[i]} (relative error {error:E2})");
        }

        // The structure must be there, or the comparison above says little.
        Assert.True(expected[1] < 0.5 * expected[2] && expected[0] > 1.5 * expected[1],
            $"reference scores lack the expected structure: {string.Join(", ", expected)}");
    }
}
