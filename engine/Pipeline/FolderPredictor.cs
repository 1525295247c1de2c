using System.Diagnostics;
using System.Globalization;
using System.Text;
using Farm.Engine.Imaging;
using Farm.Engine.IO;
using Farm.Engine.Models;

namespace Farm.Engine.Pipeline;

/// <summary>Fit on a folder of defect-free images, then score every image of another folder.</summary>
public sealed record FolderPrediction(
    string Model,
    ModelOptions Options,
    string TrainFolder,
    string ImagesFolder,
    string OutputFolder,
    int BatchSize = 16);

public sealed record FolderPredictionSummary(
    int TrainImages, int ScoredImages, double FitSeconds, double PredictSeconds, string ScoresPath);

/// <summary>
/// The "benchmark a new product" flow: no labels, no splits. Writes one <c>&lt;stem&gt;.npy</c> anomaly map (float32,
/// S×S) per scored image and <c>scores.csv</c> (<c>name,score</c>), each file atomically; `farm evaluate` reads both.
/// </summary>
public static class FolderPredictor
{
    public const string ScoresFileName = "scores.csv";

    public static FolderPredictionSummary Run(FolderPrediction request, IProgress<(int Done, int Total)>? progress = null)
    {
        var train = ImagesIn(request.TrainFolder, "--train");
        var images = ImagesIn(request.ImagesFolder, "--images");
        RequireUniqueStems(images);

        using var detector = ModelRegistry.Create(request.Model, request.Options);
        var fitClock = Stopwatch.StartNew();
        detector.Fit(ImageBatches.Preprocessed(train, request.Options.ImageSize, request.BatchSize));
        fitClock.Stop();

        var predictClock = Stopwatch.StartNew();
        var scores = new StringBuilder("name,score\n");
        var done = 0;
        foreach (var chunk in images.Chunk(request.BatchSize))
        {
            using var batch = Preprocessing.ToBatch(chunk.Select(ImageIo.ReadRgb).ToList(), request.Options.ImageSize);
            var scored = detector.Predict(batch);
            for (var i = 0; i < chunk.Length; i++)
            {
                var stem = Path.GetFileNameWithoutExtension(chunk[i]);
                NumpyFile.Write(Path.Combine(request.OutputFolder, stem + ".npy"), scored.Maps[i], scored.Height, scored.Width);
                scores.Append(CsvField(stem)).Append(',')
                    .Append(scored.ImageScores[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }

            progress?.Report((done += chunk.Length, images.Count));
        }

        var scoresPath = Path.Combine(request.OutputFolder, ScoresFileName);
        AtomicFile.WriteAllText(scoresPath, scores.ToString());
        return new FolderPredictionSummary(train.Count, images.Count, fitClock.Elapsed.TotalSeconds,
            predictClock.Elapsed.TotalSeconds, scoresPath);
    }

    private static IReadOnlyList<string> ImagesIn(string folder, string option)
    {
        if (!Directory.Exists(folder))
        {
            throw new FarmException("folder not found", folder, option);
        }

        var images = ImageIo.ListImages(folder).ToList();
        return images.Count > 0
            ? images
            : throw new FarmException($"no images ({string.Join(", ", ImageIo.ImageExtensions)}) in the folder", folder, option);
    }

    private static void RequireUniqueStems(IReadOnlyList<string> images)
    {
        var clash = images.GroupBy(Path.GetFileNameWithoutExtension, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new FarmException(
                $"images {string.Join(" and ", clash.Select(Path.GetFileName))} would both write {clash.Key}.npy",
                Path.GetDirectoryName(clash.First()), "--images");
        }
    }

    private static string CsvField(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : $"\"{value.Replace("\"", "\"\"")}\"";
}
