using System.Globalization;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.PatchCore;
using Farm.Engine.Tests.Backbones;
using Farm.Engine.Tests.Reference;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

/// <summary>
/// The detector against patchcore_reference.py: torchvision's own resnet18 / wide_resnet50_2 with the same random
/// weights, the same seeded projection and start index (handed over from here), distances in float64.
/// Compared: training patch features, coreset indices (selected on the reference's own features and, separately, on
/// Farm's features), patch scores, anomaly maps and image scores: relative error ≤ 1e-4, indices identical.
/// </summary>
public class PatchCoreParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData(1.0, 9)]
    [InlineData(0.25, 3)]
    [InlineData(0.1, 9)]
    public void ResNet18MatchesTheTorchReference(double ratio, int neighbours)
    {
        using var folder = new TempFolder();
        var weights = folder.File("weights.safetensors");
        using (var backbone = ResNet.ResNet18(seed: 51))
        {
            TensorTestSupport.RandomiseBatchNorms(backbone, seed: 52);
            SafeTensors.Save(weights, backbone.state_dict());
        }

        Compare(folder, "resnet18", weights, size: 64, trainCount: 10, ratio, neighbours);
    }

    /// <summary>
    /// Also the first full-depth Wide-ResNet-50-2 forward compared with torchvision (layer2 and layer3 through every
    /// bottleneck block), with random weights at 64 px.
    /// </summary>
    [Fact]
    public void WideResNet50x2MatchesTheTorchReference()
    {
        using var folder = new TempFolder();
        var weights = folder.File("weights.safetensors");
        using (var backbone = ResNet.WideResNet50x2(seed: 61))
        {
            TensorTestSupport.RandomiseBatchNorms(backbone, seed: 62);
            SafeTensors.Save(weights, backbone.state_dict());
        }

        Compare(folder, "wide_resnet50_2", weights, size: 64, trainCount: 6, ratio: 0.5, neighbours: 9);
    }

    private void Compare(TempFolder folder, string architecture, string weights, int size, int trainCount, double ratio, int neighbours)
    {
        using var train = TensorTestSupport.Randn(53, trainCount, 3, size, size);
        // Test images 0 and 1 are training images (0 with a brightened patch), 2 and 3 fresh noise: the maps then
        // have structure (low in-sample, high on the patch and on unseen images), not just noise.
        using var fresh = TensorTestSupport.Randn(54, 2, 3, size, size);
        using var test = cat([train[..2], fresh], 0);
        test[0, .., 8..24, 8..24] += 2f;

        var settings = new Dictionary<string, string>
        {
            ["coreset_ratio"] = ratio.ToString(CultureInfo.InvariantCulture),
            ["num_neighbors"] = neighbours.ToString(CultureInfo.InvariantCulture),
        };
        using var detector = (PatchCoreDetector)ModelRegistry.Create(
            "patchcore", new ModelOptions(size, Seed: 55, Backbone: architecture, WeightsPath: weights, Options: settings));
        var half = trainCount / 2;
        // Two batches: the bank must be gathered across streamed batches.
        detector.Fit([train[..half], train[half..]]);
        var scored = detector.Predict(test);
        using var noGrad = no_grad();
        using var features = detector.Model.PatchFeatures(train);
        var (patchScores, _) = detector.Model.Score(test);
        using var patchScoresOwned = patchScores;

        var patches = features.shape[0];
        using var projection = PatchCoreDetector.CoresetProjection(detector.Model.Channels, detector.ProjectionDim, seed: 55);
        using var first = tensor(new[] { PatchCoreDetector.FirstCentre(patches, seed: 55) });
        SafeTensors.Save(folder.File("data.safetensors"), new Dictionary<string, Tensor>
        {
            ["train"] = train, ["test"] = test, ["first"] = first, ["projection"] = projection, ["farm_features"] = features,
        });
        DebianPython.RunScript("patchcore_reference.py", architecture, weights, folder.File("data.safetensors"),
            folder.File("out.safetensors"), ratio.ToString(CultureInfo.InvariantCulture), neighbours.ToString(CultureInfo.InvariantCulture));
        var reference = SafeTensors.Load(folder.File("out.safetensors"));

        try
        {
            var featureError = TensorTestSupport.RelativeError(features, reference["features"]);
            output.WriteLine($"{architecture} ratio {ratio} k {neighbours}: {patches} patches × {detector.Model.Channels} channels, "
                             + $"feature relative error {featureError:E2}");
            Assert.True(featureError <= Tolerance, $"patch feature relative error {featureError:E2} exceeds {Tolerance}");

            var expectedIndices = reference["indices"].data<long>().ToArray();
            Assert.Equal(PatchCoreDetector.CoresetSize(patches, ratio), detector.Model.MemoryBankSize);
            Assert.Equal(expectedIndices, detector.CoresetIndices);
            if (reference.TryGetValue("farm_indices", out var farmIndices))
            {
                Assert.Equal(farmIndices.data<long>().ToArray(), detector.CoresetIndices);
                output.WriteLine($"coreset: {expectedIndices.Length} indices identical (selected on either side's features)");
            }

            var patchError = TensorTestSupport.RelativeError(patchScores.squeeze(1), reference["patch_scores"]);
            using var maps = tensor(scored.Maps.SelectMany(map => map).ToArray(), [4, size, size]);
            var mapError = TensorTestSupport.RelativeError(maps, reference["maps"]);
            output.WriteLine($"patch score relative error {patchError:E2}, map relative error {mapError:E2}");
            Assert.True(patchError <= Tolerance, $"patch score relative error {patchError:E2} exceeds {Tolerance}");
            Assert.True(mapError <= Tolerance, $"map relative error {mapError:E2} exceeds {Tolerance}");

            var expected = reference["scores"].data<double>().ToArray();
            var largest = expected.Max();
            for (var i = 0; i < 4; i++)
            {
                // Relative to the image's own score, except for near-zero in-sample scores (ratio 1 keeps the image's
                // own patches), which are measured against the largest score as the maps are.
                var error = Math.Abs(scored.ImageScores[i] - expected[i]) / Math.Max(expected[i], 0.01 * largest);
                output.WriteLine($"image {i}: score {scored.ImageScores[i]} vs reference {expected[i]} (relative error {error:E2})");
                Assert.True(error <= Tolerance, $"image {i}: score {scored.ImageScores[i]} vs reference {expected[i]} (relative error {error:E2})");
            }

            // The structure must be there, or the comparison above says little: the brightened patch stands out, and
            // with every training patch in the bank an in-sample image scores about zero.
            var structured = expected[0] > 1.5 * expected.Skip(1).Max() && (ratio < 1 || expected[1] < 0.01 * expected[2]);
            Assert.True(structured, $"reference scores lack the expected structure: {string.Join(", ", expected)}");
        }
        finally
        {
            foreach (var value in reference.Values)
            {
                value.Dispose();
            }
        }
    }
}
