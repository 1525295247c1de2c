using System.Globalization;
using System.Text.Json;
using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Models.FastFlow;
using Farm.Engine.Models.Training;
using Farm.Engine.Tests.Backbones;
using Farm.Engine.Tests.Reference;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Farm.Engine.Tests.Models;

public class FastFlowParityTests(ITestOutputHelper output)
{
    /// <summary>The bar of issue 6: relative error (max |Δ| / max |reference|) at most 1e-4.</summary>
    private const double Tolerance = 1e-4;

    /// <summary>
    /// One Adam step of the detector against fastflow_reference.py (plain PyTorch, the same initial weights saved from
    /// C#, the same batch): the loss, every trained parameter after the step, and the anomaly maps and scores of a test
    /// batch after it. Both subnet layouts: 3×3 throughout (resnet18's default) and 3×3 alternating with 1×1. In
    /// float64 (both sides) every parameter meets the bar; in float32, the production precision, the loss, maps and
    /// scores do, and all but a rare parameter element whose gradient is within rounding of zero (see below).
    /// </summary>
    [Theory]
    [InlineData("auto", 64, true)]
    [InlineData("false", 32, true)]
    [InlineData("auto", 64, false)]
    public void OneAdamStepMatchesTheTorchReference(string conv3x3Only, int size, bool float64)
    {
        using var folder = new TempFolder();
        var weights = folder.File("backbone.safetensors");
        using (var backbone = ResNet.ResNet18(seed: 51))
        {
            TensorTestSupport.RandomiseBatchNorms(backbone, seed: 52);
            SafeTensors.Save(weights, backbone.state_dict());
        }

        using var train = TensorTestSupport.Randn(53, 4, 3, size, size);
        using var fresh = TensorTestSupport.Randn(54, 2, 3, size, size);
        using var test = cat([train[..2], fresh], 0);
        test[0, .., 4..12, 4..12] += 2f;

        using var detector = (FastFlowDetector)ModelRegistry.Create("fastflow", new ModelOptions(size, Seed: 55,
            Backbone: "resnet18", WeightsPath: weights, Options: new Dictionary<string, string>
            {
                [TrainedDetector.EpochsSetting] = "1",
                ["conv3x3_only"] = conv3x3Only,
            }));
        SafeTensors.Save(folder.File("flows.safetensors"), detector.Model.state_dict());
        SafeTensors.Save(folder.File("data.safetensors"), new Dictionary<string, Tensor> { ["train"] = train, ["test"] = test });
        if (float64)
        {
            detector.UseFloat64();
        }

        Assert.Equal(1, detector.Train(_ => [train]));
        var scored = detector.Predict(test);

        var config = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["flow_steps"] = 8, ["conv3x3_only"] = conv3x3Only == "auto", ["hidden_ratio"] = 1.0, ["clamp"] = 2.0,
            ["lr"] = 1e-3, ["weight_decay"] = 1e-5, ["float64"] = float64,
        });
        DebianPython.RunScript("fastflow_reference.py", weights, folder.File("flows.safetensors"),
            folder.File("data.safetensors"), folder.File("out.safetensors"), config);
        var reference = SafeTensors.Load(folder.File("out.safetensors"));

        var expectedLoss = reference["loss"].data<double>()[0];
        var lossError = Math.Abs(detector.EpochLosses[0] - expectedLoss) / Math.Abs(expectedLoss);
        output.WriteLine($"loss {detector.EpochLosses[0]} vs reference {expectedLoss} (relative error {lossError:E2})");
        Assert.True(lossError <= Tolerance, $"loss relative error {lossError:E2}");

        var parameters = detector.Model.named_parameters().ToList();
        Assert.Equal(reference.Keys.Count(key => key.StartsWith("after.", StringComparison.Ordinal)), parameters.Count);
        var worst = 0.0;
        var (differing, elements) = (0L, 0L);
        foreach (var (name, parameter) in parameters)
        {
            var error = TensorTestSupport.RelativeError(parameter.detach(), reference["after." + name]);
            worst = Math.Max(worst, error);
            using var differ = (parameter.detach().to_type(ScalarType.Float64) - reference["after." + name]).abs() > 1e-5;
            differing += differ.sum().item<long>();
            elements += parameter.numel();
            if (float64)
            {
                Assert.True(error <= Tolerance, $"{name}: relative error {error:E2} after one step");
            }
            else if (error > Tolerance)
            {
                output.WriteLine($"{name}: relative error {error:E2} from {differ.sum().item<long>()} of {parameter.numel()} elements");
            }
        }

        output.WriteLine($"{parameters.Count} parameters after one Adam step: worst relative error {worst:E2}; "
                         + $"{differing} of {elements} elements differ by more than 1e-5");
        if (!float64)
        {
            // Adam's first step is ≈ −lr · sign(g): where a gradient is within float32 rounding of zero its sign, and
            // so that element's step, is arbitrary. Such elements must stay rare; the float64 runs hold the strict bar.
            Assert.True(differing <= elements / 10_000, $"{differing} of {elements} parameter elements differ after one step");
        }

        using var maps = tensor(scored.Maps.SelectMany(map => map).ToArray(), [4, size, size]);
        var mapError = TensorTestSupport.RelativeError(maps, reference["maps"]);
        using var scores = tensor(scored.ImageScores, [4]);
        var scoreError = TensorTestSupport.RelativeError(scores, reference["scores"]);
        output.WriteLine($"map relative error {mapError:E2}, score relative error {scoreError:E2}; scores "
                         + string.Join(", ", scored.ImageScores.Select(s => s.ToString("F5", CultureInfo.InvariantCulture))));
        Assert.True(mapError <= Tolerance, $"map relative error {mapError:E2}");
        Assert.True(scoreError <= Tolerance, $"score relative error {scoreError:E2}");

        // The step must have changed the parameters measurably, or comparing them after it says little.
        var moved = parameters.Count(pair => pair.Item1.EndsWith("global_offset", StringComparison.Ordinal)
                                             && pair.Item2.abs().max().to_type(ScalarType.Float64).item<double>() > 1e-4);
        Assert.True(moved > 0, "no global offset moved in the step");
        foreach (var tensor in reference.Values)
        {
            tensor.Dispose();
        }
    }
}
