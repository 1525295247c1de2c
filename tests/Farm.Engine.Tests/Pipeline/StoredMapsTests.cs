using Farm.Engine.Data;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Imaging;
using Farm.Engine.Models;
using Farm.Engine.Models.Padim;
using Farm.Engine.Pipeline;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;
using Farm.Engine.Tests.Data;
using TorchSharp;

namespace Farm.Engine.Tests.Pipeline;

public sealed class TinyGalleryDatasetFixture() : SyntheticDatasetFixture(new SyntheticDatasetOptions
{
    Seed = 5,
    Size = 64,
    TrainCount = 8,
    TestGoodCount = 8,
    TestPerDefectType = 2,
});

/// <summary>
/// The anomaly-map gallery a real cell stores (PaDiM, 32 px, synthetic data): bounded, chosen by the scores it
/// reports, and pictures that show the maps the model produced and the ground truth's outline.
/// </summary>
public class StoredMapsTests(TinyGalleryDatasetFixture dataset) : IClassFixture<TinyGalleryDatasetFixture>
{
    private const string RecordingModel = "map-recording-padim";
    private const int Size = 32;
    private static readonly List<float[]> RecordedMaps = [];

    static StoredMapsTests() => ModelRegistry.Register(RecordingModel, options => new RecordingDetector(new PadimDetector(options)));

    [Fact]
    public void ACellKeepsABoundedGalleryChosenByItsOwnScores()
    {
        var run = RunCell("widget", galleryImages: 12);
        var index = AnomalyMapGallery.ReadIndex(run.MapsFolder);
        var overall = run.Rows.Where(r => r.DefectCategory == "all").ToList();

        // Bounded: 12 overlays (4 of each kind) for a test set larger than that, and nothing else in the folder.
        Assert.True(run.Split.Test.Count > 12, $"the test set ({run.Split.Test.Count}) must exceed the gallery");
        Assert.Equal(12, index.Images.Count);
        Assert.All(AnomalyMapGallery.Kinds, kind => Assert.Equal(4, index.Images.Count(i => i.Kind == kind)));
        Assert.Equal(index.Images.Select(i => i.File).Append(AnomalyMapGallery.IndexFileName).Order(),
            Directory.EnumerateFiles(run.MapsFolder).Select(Path.GetFileName).Order());
        Assert.Single(Directory.EnumerateDirectories(Path.GetDirectoryName(run.MapsFolder)!));

        // The index agrees with the rows: every test image scored once, the first method's threshold recorded.
        Assert.Equal(overall[0].NTestNormal, index.Scores.Count(s => s.Label == AnomalyMapGallery.Normal));
        Assert.Equal(overall[0].NTestAnomalous, index.Scores.Count(s => s.Label == AnomalyMapGallery.Anomalous));
        Assert.Equal(run.Split.Test.Select(s => s.RelativePath), index.Scores.Select(s => s.Name));
        Assert.Equal("f1max", index.ThresholdMethod);
        Assert.Equal(overall.Single(r => r.ThresholdMethod == "f1max").ImageThreshold, index.ImageThreshold);
        Assert.Equal(run.TestMaps.Select(m => m.Max()), index.Scores.Select(s => (float)s.Score)); // PaDiM: score = map max
        Assert.Equal(run.TestMaps.Min(m => m.Min()), index.MapMin, 5);
        Assert.Equal(run.TestMaps.Max(m => m.Max()), index.MapMax, 5);
        Assert.All(index.Images.Where(i => i.Label == AnomalyMapGallery.Anomalous), i => Assert.NotNull(i.DefectCategory));

        // Kinds: best = highest anomalous and lowest normal; worst = highest normal and lowest anomalous among the rest;
        // borderline = nearest the threshold among what is left.
        var byName = index.Scores.ToDictionary(s => s.Name);
        var best = index.Images.Where(i => i.Kind == AnomalyMapGallery.Best).ToList();
        var worst = index.Images.Where(i => i.Kind == AnomalyMapGallery.Worst).ToList();
        var borderline = index.Images.Where(i => i.Kind == AnomalyMapGallery.Borderline).ToList();
        Assert.All(index.Images, i => Assert.Equal(byName[i.Name].Score, i.Score));
        AssertExtreme(best, index.Scores, [], AnomalyMapGallery.Anomalous, highest: true);
        AssertExtreme(best, index.Scores, [], AnomalyMapGallery.Normal, highest: false);
        AssertExtreme(worst, index.Scores, best, AnomalyMapGallery.Normal, highest: true);
        AssertExtreme(worst, index.Scores, best, AnomalyMapGallery.Anomalous, highest: false);
        var threshold = index.ImageThreshold!.Value;
        var chosenNames = index.Images.Select(i => i.Name).ToHashSet();
        var farthestBorderline = borderline.Max(i => Math.Abs(i.Score - threshold));
        Assert.All(index.Scores.Where(s => !chosenNames.Contains(s.Name)),
            s => Assert.True(Math.Abs(s.Score - threshold) >= farthestBorderline, $"{s.Name} is nearer the threshold"));

        // Pictures: S × S PNGs showing the recorded maps over the (resized) test image, the mask outlined.
        var span = index.MapMax - index.MapMin;
        var outlined = 0;
        foreach (var image in index.Images)
        {
            var testIndex = run.Split.Test.ToList().FindIndex(s => s.RelativePath == image.Name);
            var sample = run.Split.Test[testIndex];
            var overlay = ImageIo.ReadRgb(Path.Combine(run.MapsFolder, image.File));
            Assert.Equal((Size, Size), (overlay.Width, overlay.Height));

            var plain = AnomalyOverlay.ResizeBilinear(ImageIo.ReadRgb(sample.ImagePath), Size);
            var map = run.TestMaps[testIndex];
            var mask = sample.MaskPath is null ? new bool[Size * Size] : Preprocessing.ResizeMask(ImageIo.ReadMask(sample.MaskPath), Size).Pixels;
            var edge = Edge(mask);
            int hot = 0, hotChanged = 0;
            for (var pixel = 0; pixel < Size * Size; pixel++)
            {
                var difference = Enumerable.Range(0, 3).Max(c => Math.Abs(overlay.Pixels[(pixel * 3) + c] - plain.Pixels[(pixel * 3) + c]));
                var heat = (map[pixel] - index.MapMin) / span;
                if (edge[pixel])
                {
                    Assert.Equal([0, 255, 0], overlay.Pixels[(pixel * 3)..((pixel * 3) + 3)]);
                    outlined++;
                }
                else if (heat < 0.01)
                {
                    Assert.True(difference <= 2, $"{image.File}: pixel {pixel} with a cold map changed by {difference}");
                }
                else if (heat > 0.5)
                {
                    hot++;
                    hotChanged += difference >= 8 ? 1 : 0;
                }
            }
            Assert.True(hotChanged >= 0.9 * hot, $"{image.File}: only {hotChanged} of {hot} hot pixels show the heat map");
            Assert.Equal(image.HasMask, sample.MaskPath is not null || !sample.IsAnomalous);
        }
        Assert.True(outlined > 0, "no ground-truth outline was drawn in any overlay");
        Assert.Contains(index.Images, i => i.Label == AnomalyMapGallery.Anomalous && i.Kind == AnomalyMapGallery.Best);
        Assert.True(best.Where(i => i.Label == AnomalyMapGallery.Anomalous).Min(i => i.Score) >
            best.Where(i => i.Label == AnomalyMapGallery.Normal).Max(i => i.Score), "PaDiM should separate its best cases");
    }

    [Fact]
    public void ARetriedCellReplacesItsGalleryAndNoneMeansNone()
    {
        var first = RunCell("fabric", galleryImages: 12);
        var again = RunCell("fabric", galleryImages: 5, resultPath: first.ResultPath);

        Assert.Equal(first.MapsFolder, again.MapsFolder);
        var index = AnomalyMapGallery.ReadIndex(again.MapsFolder);
        Assert.Equal([2, 2, 1], AnomalyMapGallery.Kinds.Select(k => index.Images.Count(i => i.Kind == k)));
        Assert.Equal(6, Directory.EnumerateFiles(again.MapsFolder).Count());
        var maps = Path.GetDirectoryName(again.MapsFolder)!;
        Assert.Equal([again.MapsFolder], Directory.EnumerateDirectories(maps)); // no temp or old folders left
        Assert.Equal(again.Rows.Count, ResultsParquet.ReadAll(Path.GetDirectoryName(maps)!).Count);

        var none = RunCell("fabric", galleryImages: 0);
        Assert.False(Directory.Exists(none.MapsFolder));
    }

    /// <summary>The chosen images of one label are the most extreme of that label among the images not taken before.</summary>
    private static void AssertExtreme(IReadOnlyList<GalleryImage> chosen, IReadOnlyList<GalleryScore> scores,
        IReadOnlyList<GalleryImage> takenBefore, string label, bool highest)
    {
        var ofLabel = chosen.Where(i => i.Label == label).ToList();
        Assert.NotEmpty(ofLabel);
        var excluded = chosen.Concat(takenBefore).Select(i => i.Name).ToHashSet();
        foreach (var other in scores.Where(s => s.Label == label && !excluded.Contains(s.Name)))
        {
            Assert.True(highest ? other.Score <= ofLabel.Min(i => i.Score) : other.Score >= ofLabel.Max(i => i.Score),
                $"{other.Name} ({other.Score}) should have been chosen before {string.Join(", ", ofLabel.Select(i => i.Name))}");
        }
    }

    /// <summary>Mask pixels with a 4-neighbour outside the mask or the image.</summary>
    private static bool[] Edge(bool[] mask)
    {
        bool Inside(int x, int y) => x >= 0 && y >= 0 && x < Size && y < Size && mask[(y * Size) + x];
        var edge = new bool[mask.Length];
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                edge[(y * Size) + x] = Inside(x, y) && !(Inside(x - 1, y) && Inside(x + 1, y) && Inside(x, y - 1) && Inside(x, y + 1));
            }
        }
        return edge;
    }

    private sealed record CellRun(DataSplit Split, IReadOnlyList<ResultRow> Rows, IReadOnlyList<float[]> TestMaps,
        string ResultPath, string MapsFolder);

    private CellRun RunCell(string product, int galleryImages, string? resultPath = null)
    {
        var cell = new CellSpec(
            "test", "synthetic", "synthetic", dataset.Root, null, product, ConditionSpec.None,
            new ModelSpec(RecordingModel, "resnet18", null, new OptionMap([new("n_features", "40")])), 0, Size, 8,
            new[] { "f1max", "percentile" }.ToEquatableArray(), new ValidationSpec(2, 2));
        var split = DataSplitter.Split(MvtecDataset.LoadCategory(dataset.Root, product), 0, 2, 2);
        var layout = new ResultsLayout(dataset.Output, "gallery", ResultsLayout.NewSweepId(DateTime.UtcNow));
        var path = resultPath ?? layout.CellFile(cell.CellId);
        lock (RecordedMaps)
        {
            RecordedMaps.Clear();
            CellRunner.Run(new CellRunRequest(cell, split, layout.SweepId, "gallery", path, null, GalleryImages: galleryImages));
            // Validation is scored first, then the test images.
            var testMaps = RecordedMaps.Skip(split.Validation.Count).ToList();
            Assert.Equal(split.Test.Count, testMaps.Count);
            return new CellRun(split, ResultsParquet.ReadFile(path), testMaps, path, ResultsLayout.MapsDirectoryOfCellFile(path));
        }
    }

    /// <summary>Real PaDiM, recording every map it returns so the test knows what the overlays should show.</summary>
    private sealed class RecordingDetector(IAnomalyDetector inner) : IAnomalyDetector
    {
        public string Name => RecordingModel;

        public void Fit(IEnumerable<torch.Tensor> normalBatches) => inner.Fit(normalBatches);

        public ScoredBatch Predict(torch.Tensor batch)
        {
            var scored = inner.Predict(batch);
            RecordedMaps.AddRange(scored.Maps);
            return scored;
        }

        public void Dispose() => inner.Dispose();
    }
}
