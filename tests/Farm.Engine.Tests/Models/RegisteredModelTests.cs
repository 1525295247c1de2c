using Farm.Engine.Backbones;
using Farm.Engine.Models;
using Farm.Engine.Tests.Backbones;
using TorchSharp;

namespace Farm.Engine.Tests.Models;

/// <summary>What every registered model owes the pipeline, checked for each one (anomalib's registry-wide tests).</summary>
public class RegisteredModelTests
{
    public static TheoryData<string> Models => [.. ModelRegistry.BuiltInNames];

    private static IAnomalyDetector Create(string model, int seed = 1) => ModelRegistry.Create(model, new ModelOptions(32, seed));

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
        Assert.All(first.ImageScores, score => Assert.True(float.IsFinite(score) && score >= 0, $"{model} score {score}"));
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
        foreach (var backbone in BackboneRegistry.Names)
        {
            using var detector = ModelRegistry.Create(model, new ModelOptions(32, 0, backbone));
            Assert.Equal(model, detector.Name, ignoreCase: true);
        }
    }
}
