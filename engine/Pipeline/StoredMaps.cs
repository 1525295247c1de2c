using Farm.Engine.Data;
using Farm.Engine.Evaluation;
using Farm.Engine.Imaging;
using Farm.Engine.Results;

namespace Farm.Engine.Pipeline;

/// <summary>
/// Writes a cell's anomaly-map gallery (<see cref="AnomalyMapGallery"/>): overlays of a bounded number of its test
/// images and an index of every test score. Memory stays bounded without a second pass: the cell already holds every
/// test map (its pixel metrics need them), so the choice is made from the final scores and only the chosen images
/// (at most <see cref="CellRunRequest.GalleryImages"/>) are decoded again to draw them.
/// </summary>
internal static class StoredMaps
{
    /// <param name="request">The cell; its gallery size and folder.</param>
    /// <param name="testSamples">The test images, in the order they were scored.</param>
    /// <param name="test">Their scores, maps and masks (S × S).</param>
    /// <param name="evaluation">The cell's evaluation: the first threshold method's image threshold picks borderline images.</param>
    /// <param name="labelOf">Product-agnostic labels by image name, when the dataset has them.</param>
    /// <param name="alter">The test condition applied when scoring (drift), so the picture is the image the model saw.</param>
    public static void Write(
        CellRunRequest request,
        IReadOnlyList<ImageSample> testSamples,
        ScoredImages test,
        CellEvaluation evaluation,
        Func<string, ProductLabel?>? labelOf,
        Func<ImageSample, RgbImage, BinaryMask, (RgbImage Image, BinaryMask Mask)>? alter)
    {
        if (request.GalleryImages <= 0 || test.Count == 0)
        {
            return;
        }

        var cell = request.Cell;
        var method = evaluation.Subsets[0].Thresholds[0];
        var chosen = AnomalyMapGallery.Choose(test.ImageScores, test.IsAnomalous, test.Names, method.ImageThreshold,
            request.GalleryImages);
        var (low, high) = MapRange(test.Maps);

        string? DefectCategory(int i) =>
            test.IsAnomalous[i] && labelOf?.Invoke(test.Names[i]) is { } label ? ProductLabels.ToCsv(label.Category) : null;
        string Label(int i) => test.IsAnomalous[i] ? AnomalyMapGallery.Anomalous : AnomalyMapGallery.Normal;

        var index = new GalleryIndex
        {
            CellId = cell.CellId,
            Dataset = cell.DatasetName,
            Category = cell.Category,
            Experiment = cell.Condition.Experiment,
            ConditionParameter = cell.Condition.Parameter,
            ConditionSeed = cell.Condition.Seed,
            Model = cell.Model.Name,
            Backbone = cell.Model.Backbone,
            ImageSize = cell.ImageSize,
            Seed = cell.Seed,
            ThresholdMethod = method.Method,
            ImageThreshold = double.IsNaN(method.ImageThreshold) ? null : method.ImageThreshold,
            MapMin = low,
            MapMax = high,
            Images = chosen.Select(c => new GalleryImage(
                AnomalyMapGallery.FileName(c.Kind, c.Rank), c.Kind, c.Rank, test.Names[c.Index], Label(c.Index),
                testSamples[c.Index].DefectType, DefectCategory(c.Index), test.ImageScores[c.Index],
                test.Masks[c.Index] is not null)).ToList(),
            Scores = Enumerable.Range(0, test.Count).Select(i => new GalleryScore(
                test.Names[i], Label(i), testSamples[i].DefectType, DefectCategory(i), test.ImageScores[i])).ToList(),
        };

        var folder = request.MapsDirectory ?? ResultsLayout.MapsDirectoryOfCellFile(request.ResultPath);
        AnomalyMapGallery.Write(folder, index, temporary =>
        {
            foreach (var (i, kind, rank) in chosen)
            {
                var sample = testSamples[i];
                var image = MvtecDataset.ReadImageAndGroundTruth(sample).Image;
                if (alter is not null)
                {
                    image = alter(sample, image, BinaryMask.Empty(image.Width, image.Height)).Image;
                }

                var picture = AnomalyOverlay.ResizeBilinear(image, test.Width);
                var overlay = AnomalyOverlay.Render(picture, test.Maps[i], test.Masks[i], low, high);
                ImageIo.WritePng(Path.Combine(temporary, AnomalyMapGallery.FileName(kind, rank)), overlay);
            }
        });
    }

    /// <summary>The smallest and largest finite value over all maps: one colour scale for the cell's images.</summary>
    private static (double Low, double High) MapRange(IReadOnlyList<float[]> maps)
    {
        var low = float.PositiveInfinity;
        var high = float.NegativeInfinity;
        foreach (var map in maps)
        {
            foreach (var value in map)
            {
                if (float.IsFinite(value))
                {
                    low = Math.Min(low, value);
                    high = Math.Max(high, value);
                }
            }
        }
        return float.IsFinite(low) ? (low, high) : (0, 1);
    }
}
