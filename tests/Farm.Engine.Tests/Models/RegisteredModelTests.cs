using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Tests.Backbones;
using TorchSharp;

namespace Farm.Engine.Tests.Models;

/// <summary>What every registered model owes the pipeline, checked for each one (anomalib's registry-wide tests).</summary>
public class RegisteredModelTests
{
    public static TheoryData<string> Models => [.. ModelRegistry.BuiltInNames];

    /// <summary>Every built-in trained model, and the small test model so that the list is never empty.</summary>
    public static TheoryData<string> TrainedModels
    {
        get
        {
            MeanImageDetector.EnsureRegistered();
            return [.. ModelRegistry.BuiltInNames.Where(ModelRegistry.Trains), MeanImageDetector.ModelName];
        }
    }

    /// <summary>
    /// Where these contract tests compute: <c>FARM_TEST_DEVICE</c> (e.g. <c>cuda</c> on a GPU machine, with a
    /// <c>-p:TorchBackend=cuda</c> build), else the CPU. CI runs them on the CPU.
    /// </summary>
    public static string TestDevice =>
        Environment.GetEnvironmentVariable("FARM_TEST_DEVICE") is { Length: > 0 } device ? device : ComputeDevice.Cpu;

    /// <summary>Trained models run two epochs here: the contract, not the quality, is under test.</summary>
    private static IAnomalyDetector Create(string model, int seed = 1, string backbone = "resnet18") =>
        ModelRegistry.Create(model, new ModelOptions(32, seed, backbone, Options: ModelRegistry.Trains(model)
            ? new Dictionary<string, string> { [Farm.Engine.Models.Training.TrainedDetector.EpochsSetting] = "2" }
            : null, Device: TestDevice));

    [Theory]
    [MemberData(nameof(Models))]
    public void NoTensorsLeakAcrossFitAndBatches(string model)
    {
        using var detector = Create(model);
        using var train = TensorTestSupport.Randn(10, 4, 3, 32, 32);
        using var test = TensorTestSupport.Randn(11, 2, 3, 32, 32);
        var batches = new[] { train[..2], train[2..] };

        var beforeFit = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        detector.Fit(batches);
        Assert.Equal(beforeFit, DisposeScopeManager.Statistics.ThreadTotalLiveCount);

        detector.Predict(test);
        var afterFirst = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 3; i++)
        {
            detector.Predict(test);
        }

        Assert.Equal(afterFirst, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(beforeFit, afterFirst);
        foreach (var batch in batches)
        {
            batch.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void SameSeedSameScoresAndMapsOfTheInputSize(string model)
    {
        using var train = TensorTestSupport.Randn(12, 6, 3, 32, 32);
        using var test = TensorTestSupport.Randn(13, 3, 3, 32, 32);

        ScoredBatch Run()
        {
            using var detector = Create(model, seed: 5);
            detector.Fit([train]);
            return detector.Predict(test);
        }

        var first = Run();
        var second = Run();

        Assert.Equal(first.ImageScores, second.ImageScores);
        Assert.Equal(first.Maps.SelectMany(m => m), second.Maps.SelectMany(m => m));
        Assert.Equal((32, 32), (first.Height, first.Width));
        Assert.All(first.Maps, map => Assert.Equal(32 * 32, map.Length));
        // Finite, not necessarily positive: flow models score by negated likelihood.
        Assert.All(first.ImageScores, score => Assert.True(float.IsFinite(score), $"{model} score {score}"));
        Assert.All(first.Maps, map => Assert.All(map, value => Assert.True(float.IsFinite(value), $"{model} map value {value}")));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void PredictBeforeFitIsRefused(string model)
    {
        using var detector = Create(model);
        using var test = TensorTestSupport.Randn(14, 1, 3, 32, 32);

        Assert.ThrowsAny<InvalidOperationException>(() => { detector.Predict(test); });
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryBackboneBuildsForEveryModel(string model)
    {
        // A model may support only some backbones (RD4AD's decoder mirrors its encoder); it must then say so clearly.
        var built = 0;
        foreach (var backbone in BackboneRegistry.Names)
        {
            try
            {
                using var detector = Create(model, seed: 0, backbone: backbone);
                Assert.Equal(model, detector.Name, ignoreCase: true);
                built++;
            }
            catch (FarmException error)
            {
                Assert.Contains(backbone, error.Message);
            }
        }
        Assert.True(built > 0, $"{model} builds with no backbone");
    }

    [Theory]
    [MemberData(nameof(TrainedModels))]
    public void TrainingKeepsLiveTensorsFlatAndACheckpointRestoresAnEpoch(string model)
    {
        using var detector = (Farm.Engine.Models.Training.TrainedDetector)ModelRegistry.Create(model, new ModelOptions(32, 4,
            Options: new Dictionary<string, string> { [Farm.Engine.Models.Training.TrainedDetector.EpochsSetting] = "4" }));
        using var train = TensorTestSupport.Randn(15, 4, 3, 32, 32);
        using var test = TensorTestSupport.Randn(16, 2, 3, 32, 32);
        var batches = new[] { train[..2], train[2..] };
        var live = new List<long>();
        Farm.Engine.Models.Training.ModuleCheckpoint? second = null;
        float[]? secondScores = null;

        detector.Train(_ => batches, epoch =>
        {
            if (epoch == 2)
            {
                second = detector.Checkpoint();
                secondScores = detector.Predict(test).ImageScores;
            }
            live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount - (second is null ? 0 : second.Names.Count));
            return true;
        });

        // From the second epoch on (optimiser state exists after the first step) nothing accumulates.
        Assert.Single(live.Skip(1).Distinct());
        Assert.NotEqual(secondScores, detector.Predict(test).ImageScores);
        detector.Restore(second!);
        Assert.Equal(secondScores, detector.Predict(test).ImageScores);
        second!.Dispose();
        foreach (var batch in batches)
        {
            batch.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void SettingsAreDeclaredAndAnUndeclaredOneIsRefused(string model)
    {
        var settings = ModelRegistry.SettingKeys(model);

        Assert.NotNull(settings);
        Assert.Equal(ModelRegistry.Trains(model), settings.Contains(Farm.Engine.Models.Training.TrainedDetector.EpochsSetting));
        var error = Assert.Throws<FarmException>(() => ModelRegistry.Create(model, new ModelOptions(32, 0,
            Options: new Dictionary<string, string> { ["no_such_setting"] = "1" })));
        Assert.Equal("no_such_setting", error.Field);
    }
}
