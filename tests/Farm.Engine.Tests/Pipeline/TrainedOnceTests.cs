using Farm.Engine.Data;
using Farm.Engine.Models;
using Farm.Engine.Models.Padim;
using Farm.Engine.Pipeline;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using TorchSharp;

namespace Farm.Engine.Tests.Pipeline;

/// <summary>
/// Threshold methods are rows of one cell, not separate trainings: a cell fits its model once and scores each
/// validation and test image once, however many threshold methods it reports.
/// </summary>
public class TrainedOnceTests(PipelineDatasetFixture dataset) : IClassFixture<PipelineDatasetFixture>
{
    private const string CountingModel = "counting-padim";
    private static readonly CountingDetector.Counts Counted = new();

    static TrainedOnceTests() => ModelRegistry.Register(CountingModel, options => new CountingDetector(new PadimDetector(options), Counted));

    [Fact]
    public void EveryThresholdMethodReusesOneFitAndOneForwardPerImage()
    {
        string[] methods = ["f1max", "iou", "normal-stats", "percentile", "fpr-bound"];
        var cell = new CellSpec(
            "test", "synthetic", "synthetic", dataset.Root, null, "widget", ConditionSpec.None,
            new ModelSpec(CountingModel, "resnet18", null, OptionMap.Empty), 0, 64, 5, methods.ToEquatableArray(),
            new ValidationSpec(2, 2));
        var split = DataSplitter.Split(MvtecDataset.LoadCategory(dataset.Root, "widget"), 0, 2, 2);
        var path = Path.Combine(dataset.Output, $"trained-once-{Guid.NewGuid():N}.parquet");

        CellRunner.Run(new CellRunRequest(cell, split, "sweep", "test", path, null));

        Assert.Equal(1, Counted.Fits);
        Assert.Equal(split.Train.Count, Counted.TrainingImages);
        Assert.Equal(split.Validation.Count + split.Test.Count, Counted.PredictedImages);
        Assert.Equal(Batches(split.Validation.Count, 5) + Batches(split.Test.Count, 5), Counted.PredictCalls);
        var rows = ResultsParquet.ReadFile(path);
        Assert.Equal(methods, rows.Where(r => r.DefectCategory == "all").Select(r => r.ThresholdMethod));
    }

    [Fact]
    public void ACellReportsItsPhasesAndEveryEpochOfATrainedModel()
    {
        Models.MeanImageDetector.EnsureRegistered();
        var cell = new CellSpec(
            "test", "synthetic", "synthetic", dataset.Root, null, "widget", ConditionSpec.None,
            new ModelSpec(Models.MeanImageDetector.ModelName, "resnet18", null, new OptionMap(new Dictionary<string, string> { ["epochs"] = "3" })),
            0, 64, 5, new[] { "f1max" }.ToEquatableArray(), new ValidationSpec(2, 2));
        var split = DataSplitter.Split(MvtecDataset.LoadCategory(dataset.Root, "widget"), 0, 2, 2);
        var path = Path.Combine(dataset.Output, $"progress-{Guid.NewGuid():N}.parquet");
        var reports = new List<CellProgress>();

        CellRunner.Run(new CellRunRequest(cell, split, "sweep", "test", path, null, reports.Add));

        Assert.Equal(
            [new("fit", 0, 3), new("fit", 1, 3), new("fit", 2, 3), new("fit", 3, 3), new("score", 3, 3), new("metrics", 3, 3)],
            reports);
    }

    private static int Batches(int images, int batchSize) => (images + batchSize - 1) / batchSize;

    /// <summary>Wraps a real detector and counts what the pipeline asks of it.</summary>
    private sealed class CountingDetector(IAnomalyDetector inner, CountingDetector.Counts counts) : IAnomalyDetector
    {
        public sealed class Counts
        {
            public int Fits;
            public int TrainingImages;
            public int PredictCalls;
            public int PredictedImages;
        }

        public string Name => CountingModel;

        public void Fit(IEnumerable<torch.Tensor> normalBatches)
        {
            counts.Fits++;
            inner.Fit(normalBatches.Select(batch =>
            {
                counts.TrainingImages += (int)batch.shape[0];
                return batch;
            }));
        }

        public ScoredBatch Predict(torch.Tensor batch)
        {
            counts.PredictCalls++;
            counts.PredictedImages += (int)batch.shape[0];
            return inner.Predict(batch);
        }

        public void Dispose() => inner.Dispose();
    }
}
