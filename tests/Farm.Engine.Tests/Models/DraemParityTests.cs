using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.Draem;
using Farm.Engine.Models.Training;
using Farm.Engine.Tests.Backbones;
using Farm.Engine.Tests.Reference;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class DraemParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    /// <summary>
    /// One Adam step of DRAEM against draem_reference.py (the official architecture rebuilt in plain PyTorch, loaded by
    /// name from the detector's initial weights) on one simulated batch handed to both (the simulation itself is
    /// random and checked in DraemAugmentationTests): the loss (L2 + SSIM loss + focal loss), every parameter and
    /// batch-norm running statistic after the step, and the eval-mode anomaly maps and image scores of a test batch
    /// agree to 1e-4. Narrow networks (widths 4 and 2) at 32 and 64 px, in float64: Adam's first update,
    /// lr·g/(|g| + 1e-8), turns float32 rounding of near-zero gradients into large relative differences (see
    /// <see cref="VaeParityTests"/>).
    /// </summary>
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void OneAdamStepAndTheMapsMatchTheTorchReference(int size)
    {
        using var folder = new TempFolder();
        using var detector = (DraemDetector)ModelRegistry.Create("draem", new ModelOptions(size, Seed: 61, Options: new Dictionary<string, string>
        {
            [TrainedDetector.EpochsSetting] = "1",
            ["reconstructive_width"] = "4",
            ["discriminative_width"] = "2",
        }));
        detector.Model.to(ScalarType.Float64);
        var weights = folder.File("weights.safetensors");
        SafeTensors.Save(weights, detector.Model.state_dict());

        using var generator = new Generator(62);
        using var images = rand([4, 3, size, size], ScalarType.Float32, generator: generator);
        var (target, augmented, mask) = new AnomalySimulator(size, []).Simulate(images, generator);
        using (target)
        using (augmented)
        using (mask)
        using (var batch = TensorTestSupport.Randn(63, 4, 3, size, size))
        using (var test = TensorTestSupport.Randn(64, 2, 3, size, size))
        using (var lr = tensor(new[] { detector.LearningRate }))
        {
            Assert.True(mask.sum().item<float>() > 0, "the simulated batch has no anomaly");
            detector.SimulationOverride = _ => (target.clone(), augmented.clone(), mask.clone());
            Assert.Equal(1, detector.Train(_ => [batch]));
            var scored = detector.Predict(test);

            SafeTensors.Save(folder.File("data.safetensors"), new Dictionary<string, Tensor>
            {
                ["target"] = target, ["augmented"] = augmented, ["mask"] = mask, ["test"] = test, ["lr"] = lr,
            });
            DebianPython.RunScript("draem_reference.py", weights, folder.File("data.safetensors"), folder.File("out.safetensors"));
            var reference = SafeTensors.Load(folder.File("out.safetensors"));
            try
            {
                var expectedLoss = reference["loss"].data<double>()[0];
                var lossError = Math.Abs(detector.EpochLosses[0] - expectedLoss) / Math.Abs(expectedLoss);
                output.WriteLine($"S={size}: loss {detector.EpochLosses[0]} vs {expectedLoss} (relative error {lossError:E2})");
                Assert.True(lossError <= Tolerance, $"loss relative error {lossError:E2}");

                var state = detector.Model.state_dict().Where(entry => !entry.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
                Assert.Equal(state.Count, reference.Count - 3);
                var worst = 0.0;
                foreach (var (name, value) in state)
                {
                    var error = TensorTestSupport.RelativeError(value, reference[name]);
                    worst = Math.Max(worst, error);
                    Assert.True(error <= Tolerance, $"{name}: relative error {error:E2} after one Adam step");
                }

                output.WriteLine($"worst parameter/statistic relative error after the step {worst:E2} over {state.Count} tensors");
                using var maps = tensor(scored.Maps.SelectMany(map => map).ToArray(), [2, size, size]);
                using var scores = tensor(scored.ImageScores);
                var mapError = TensorTestSupport.RelativeError(maps, reference["maps"].to_type(ScalarType.Float32));
                var scoreError = TensorTestSupport.RelativeError(scores, reference["scores"].to_type(ScalarType.Float32));
                output.WriteLine($"maps relative error {mapError:E2}, scores {scoreError:E2}");
                Assert.True(mapError <= Tolerance, $"map relative error {mapError:E2}");
                Assert.True(scoreError <= Tolerance, $"score relative error {scoreError:E2}");
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
}
