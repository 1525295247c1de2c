using Farm.Engine.Data;
using Farm.Engine.Data.Formats;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Pipeline;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.Engine.Tests.Data;

namespace Farm.Engine.Tests.Pipeline;

/// <summary>The synthetic widget in the folder layout, generated once for the class.</summary>
public sealed class FolderDatasetFixture : IDisposable
{
    private readonly DataTestFolder folder = new();

    public FolderDatasetFixture()
    {
        SyntheticFolderDataset.Write(Root, new SyntheticDatasetOptions
        {
            Seed = 5,
            Size = 64,
            TrainCount = 10,
            TestGoodCount = 4,
            TestPerDefectType = 2,
        }, "widget");
    }

    public string Root => folder.Combine("widgets");

    public string Output => folder.Combine("results");

    public void Dispose() => folder.Dispose();
}

public class FolderDatasetCellTests(FolderDatasetFixture dataset) : IClassFixture<FolderDatasetFixture>
{
    private static readonly string[] Thresholds = ["f1max", "normal-stats", "fpr-bound"];

    [Fact]
    public void WithoutMasksACellHasImageMetricsAndNullPixelMetrics()
    {
        var rows = RunCell(new FolderLayout("widgets", SyntheticFolderDataset.Normal, SyntheticFolderDataset.Abnormal));

        Assert.Equal(Thresholds, rows.Select(r => r.ThresholdMethod));
        Assert.All(rows, r =>
        {
            Assert.Equal(("folder", "widgets", "all"), (r.DatasetFormat, r.Category, r.DefectCategory));
            Assert.InRange(r.ImageAuroc, 0, 1);
            Assert.InRange(r.ImageF1Max, 0, 1);
            Assert.False(double.IsNaN(r.ImageThreshold), r.ThresholdMethod);
            Assert.InRange(r.ImageAccuracy, 0, 1);
            Assert.True(r.NTestAnomalous > 0);
            Assert.All(
                new[] { r.PixelAuroc, r.PixelAupro, r.PixelF1Max, r.PixelIouMax, r.PixelThreshold, r.PixelPrecision,
                    r.PixelRecall, r.PixelF1, r.PixelIou },
                value => Assert.True(double.IsNaN(value), $"{r.ThresholdMethod}: a pixel value is {value}, not null"));
        });
        // 10 normal images in good/, round(0.2 × 10) = 2 held out for testing, of which 1 goes to validation.
        Assert.Equal((8, 1), (rows[0].NTrain, rows[0].NTestNormal));
    }

    [Fact]
    public void WithMasksAndNormalTestTheSameImagesGetPixelMetrics()
    {
        var rows = RunCell(new FolderLayout("widgets", SyntheticFolderDataset.Normal, SyntheticFolderDataset.Abnormal,
            SyntheticFolderDataset.Masks, SyntheticFolderDataset.NormalTest));

        Assert.All(rows, r =>
        {
            Assert.InRange(r.PixelAuroc, 0, 1);
            Assert.InRange(r.PixelAupro, 0, 1);
            Assert.False(double.IsNaN(r.PixelThreshold), r.ThresholdMethod);
            Assert.InRange(r.PixelF1, 0, 1);
        });
        Assert.Equal((10, 3), (rows[0].NTrain, rows[0].NTestNormal));
    }

    private IReadOnlyList<ResultRow> RunCell(FolderLayout layout)
    {
        var cell = new CellSpec(
            "test", "widgets", DatasetFormats.Folder, dataset.Root, null, "widgets", ConditionSpec.None,
            new ModelSpec("padim", "resnet18", null, new OptionMap([new("n_features", "40")])), 0, 64, 8,
            Thresholds.ToEquatableArray(), new ValidationSpec(2, 1), Folders: layout);
        var category = DatasetFormats.Get(DatasetFormats.Folder, layout).LoadCategory(dataset.Root, "widgets");
        var split = DataSplitter.Split(category, 0, 2, 1);
        var path = Path.Combine(dataset.Output, $"{Guid.NewGuid():N}.parquet");

        CellRunner.Run(new CellRunRequest(cell, split, "sweep-1", "test", path, DatasetManifest.Hash(category)));

        return ResultsParquet.ReadFile(path);
    }
}
