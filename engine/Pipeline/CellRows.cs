using Farm.Engine.Data;
using System.Reflection;
using Farm.Engine.IO;
using Farm.Engine.Results;

namespace Farm.Engine.Pipeline;

/// <summary>Turns one cell's evaluation into its result rows: one per reported subset × threshold method.</summary>
internal static class CellRows
{
    public static string FarmVersion { get; } =
        typeof(CellRows).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CellRows).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    // split: the one the cell ran on, i.e. the requested one after its condition (e.g. contamination).
    public static IReadOnlyList<ResultRow> Build(
        CellRunRequest request, DataSplit split, CellEvaluation evaluation, CellTimings timings, TrainingOutcome training)
    {
        var cell = request.Cell;
        var created = DateTime.UtcNow;
        var weightsSha256 = cell.Model.WeightsPath is { } weights ? FileHashes.Sha256Memoised(weights) : null;
        return evaluation.Subsets.SelectMany(subset => subset.Thresholds.Select(threshold => new ResultRow
        {
            SweepId = request.SweepId,
            SweepName = request.SweepName,
            CellId = cell.CellId,
            ConfigHash = cell.ConfigHash,
            Dataset = cell.DatasetName,
            DatasetFormat = cell.DatasetFormat,
            DatasetHash = request.DatasetHash,
            Category = cell.Category,
            DefectCategory = subset.Subset.DefectCategory,
            Background = subset.Subset.Background,
            Experiment = cell.Condition.Experiment,
            ConditionParameter = cell.Condition.Parameter,
            ConditionSeed = cell.Condition.Seed,
            Model = cell.Model.Name,
            Backbone = cell.Model.Backbone,
            WeightsFile = cell.Model.WeightsPath is { } file ? Path.GetFileName(file) : null,
            WeightsSha256 = weightsSha256,
            ImageSize = cell.ImageSize,
            Seed = cell.Seed,
            ThresholdMethod = threshold.Method,
            ImageThreshold = threshold.ImageThreshold,
            PixelThreshold = threshold.PixelThreshold,
            ImageAuroc = subset.Metrics.Image.Auroc,
            ImageAupr = subset.Metrics.Image.Aupr,
            ImageF1Max = subset.Metrics.Image.F1Max,
            ImagePg2 = subset.Metrics.Image.Pg2,
            ImagePb2 = subset.Metrics.Image.Pb2,
            PixelAuroc = subset.Metrics.Pixel.Auroc,
            PixelAupro = subset.Metrics.Pixel.Aupro,
            PixelF1Max = subset.Metrics.Pixel.F1Max,
            PixelIouMax = subset.Metrics.Pixel.IouMax,
            PixelPrecision = threshold.Pixel.Precision,
            PixelRecall = threshold.Pixel.Recall,
            PixelF1 = threshold.Pixel.F1,
            PixelIou = threshold.Pixel.Iou,
            ImageAccuracy = threshold.Image.Accuracy,
            ImageFpr = threshold.Image.FalsePositiveRate,
            ImageFnr = threshold.Image.FalseNegativeRate,
            NTrain = split.Train.Count,
            NValidation = split.Validation.Count,
            NTestNormal = subset.NormalCount,
            NTestAnomalous = subset.AnomalousCount,
            Epochs = training.Epochs,
            EpochsRun = training.EpochsRun,
            FitSeconds = timings.FitSeconds,
            PredictSeconds = timings.PredictSeconds,
            MetricsSeconds = timings.MetricsSeconds,
            TotalSeconds = timings.TotalSeconds,
            Device = request.Device,
            FarmVersion = FarmVersion,
            CreatedUtc = created,
        })).ToList();
    }
}
