using Farm.Engine.Models;
using Farm.Engine.Tests.Backbones;
using TorchSharp;

namespace Farm.Engine.Tests.Models.Training;

/// <summary>The shared training loop, through the small <see cref="MeanImageDetector"/>.</summary>
public class TrainedDetectorTests
{
    private static MeanImageDetector Create(int epochs, string lr = "0.3") => new(new ModelOptions(32, Seed: 3,
        Options: new Dictionary<string, string> { ["epochs"] = epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), ["lr"] = lr }));

    [Fact]
    public void LiveTensorsStayFlatAcrossEpochs()
    {
        using var train = TensorTestSupport.Randn(21, 8, 3, 32, 32);
        var batches = new[] { train[..4], train[4..] };
        using var detector = Create(epochs: 6);
        var live = new List<long>();

        detector.Train(_ => batches, epoch =>
        {
            live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            return true;
        });

        // After the first epoch (the optimiser's state appears with its first step) nothing accumulates.
        Assert.Equal(6, live.Count);
        Assert.Single(live.Skip(1).Distinct());
        Assert.Equal(6, detector.EpochLosses.Count);
        foreach (var batch in batches)
        {
            batch.Dispose();
        }
    }

    [Fact]
    public void FitLeavesNoTensorBehind()
    {
        using var train = TensorTestSupport.Randn(27, 6, 3, 32, 32);
        using var detector = Create(epochs: 2);
        var batches = new[] { train[..3], train[3..] };
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        detector.Fit(batches);

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        foreach (var batch in batches)
        {
            batch.Dispose();
        }
    }

    [Fact]
    public void FitTrainsTheFullCountAndMatchesTrainOnTheSameBatches()
    {
        using var train = TensorTestSupport.Randn(22, 6, 3, 32, 32);
        using var test = TensorTestSupport.Randn(23, 2, 3, 32, 32);
        using var fitted = Create(epochs: 3);
        using var trained = Create(epochs: 3);

        fitted.Fit([train[..3], train[3..]]);
        var ran = trained.Train(_ => [train[..3], train[3..]]);

        Assert.Equal(3, ran);
        Assert.Equal(fitted.EpochLosses, trained.EpochLosses);
        Assert.Equal(fitted.Predict(test).ImageScores, trained.Predict(test).ImageScores);
    }

    [Fact]
    public void AfterEpochCanStopTrainingAndSeesAPredictableModel()
    {
        using var train = TensorTestSupport.Randn(24, 4, 3, 32, 32);
        using var test = TensorTestSupport.Randn(25, 2, 3, 32, 32);
        using var detector = Create(epochs: 10);
        var scores = new List<float[]>();

        var ran = detector.Train(_ => [train], epoch =>
        {
            scores.Add(detector.Predict(test).ImageScores);
            return epoch < 4;
        });

        Assert.Equal(4, ran);
        Assert.Equal(4, scores.Count);
        Assert.Equal(4, scores.Select(s => string.Join(",", s)).Distinct().Count());
    }

    [Fact]
    public void ADivergingLossStopsWithAnErrorNamingTheModelAndEpoch()
    {
        using var train = TensorTestSupport.Randn(26, 4, 3, 32, 32);
        using var detector = Create(epochs: 200, lr: "1e20");

        var error = Assert.Throws<FarmException>(() => detector.Train(_ => [train]));

        Assert.Contains(MeanImageDetector.ModelName, error.Message);
        Assert.Contains("diverged", error.Message);
        Assert.Matches("epoch [0-9]+", error.Message);
    }

    [Fact]
    public void TheEpochsSettingIsValidated()
    {
        var error = Assert.Throws<FarmException>(() => Create(epochs: 0));
        Assert.Equal("epochs", error.Field);
    }
}
