using System.Diagnostics;
using System.Globalization;
using Farm.Engine.Data;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Evaluation;
using Farm.Engine.Imaging;
using Farm.Engine.Models;
using Farm.Engine.Models.Training;
using Farm.Engine.Results;
using Farm.Engine.Robustness;
using Farm.Engine.Sweeps;

namespace Farm.Engine.Pipeline;

/// <summary>
/// Everything one cell needs: what to run, on which split, and where its rows are committed. <see cref="GalleryImages"/>
/// is how many anomaly-map overlays the cell keeps for reports (0 = none); they go to <see cref="MapsDirectory"/>, by
/// default <c>&lt;sweep&gt;/maps/&lt;cell file stem&gt;/</c> (<see cref="ResultsLayout.MapsDirectoryOfCellFile"/>).
/// </summary>
public sealed record CellRunRequest(
    CellSpec Cell,
    DataSplit Split,
    string SweepId,
    string SweepName,
    string ResultPath,
    string? DatasetHash,
    Action<CellProgress>? Progress = null,
    string Device = ComputeDevice.Cpu,
    int GalleryImages = AnomalyMapGallery.DefaultImageCount,
    string? MapsDirectory = null);

/// <summary>
/// Where a running cell is, for progress displays: phase "fit" (with the epoch just finished of a trained model's
/// epochs; 0 of 0 for a one-pass model), "score" or "metrics". Reported from the cell's own thread.
/// </summary>
public sealed record CellProgress(string Phase, int Epoch, int Epochs);

public sealed record CellRunSummary(int Rows, double FitSeconds, double PredictSeconds, double MetricsSeconds, double TotalSeconds);

/// <summary>
/// Runs one cell synchronously on the calling thread: fit the model once on the training images, score validation
/// and test images once, then evaluate every threshold method on those same scores (no retraining, no re-inference),
/// and commit all rows in one atomic Parquet file.
/// </summary>
public static class CellRunner
{
    public static CellRunSummary Run(CellRunRequest request, CancellationToken cancellation = default)
    {
        var total = Stopwatch.StartNew();
        var cell = request.Cell;
        RequireSupportedCondition(cell.Condition);
        var split = ApplyTrainingCondition(cell, request.Split);
        var options = new ModelOptions(cell.ImageSize, cell.Seed, cell.Model.Backbone, cell.Model.WeightsPath, cell.Model.Options,
            request.Device);
        using var detector = ModelRegistry.Create(cell.Model.Name, options);

        var report = request.Progress ?? (_ => { });
        var epochs = detector is ITrainableDetector trained ? trained.Epochs : 0;
        report(new CellProgress("fit", 0, epochs));
        var fitClock = Stopwatch.StartNew();
        var training = Fit(detector, cell, split, cancellation, epoch => report(new CellProgress("fit", epoch, epochs)));
        fitClock.Stop();

        report(new CellProgress("score", training.EpochsRun ?? 0, epochs));
        var predictClock = Stopwatch.StartNew();
        var validation = Score(detector, split.Validation, cell.ImageSize, cell.BatchSize, cancellation);
        var testCondition = TestCondition(cell.Condition);
        var test = Score(detector, split.Test, cell.ImageSize, cell.BatchSize, cancellation, testCondition);
        predictClock.Stop();

        report(new CellProgress("metrics", training.EpochsRun ?? 0, epochs));
        var metricsClock = Stopwatch.StartNew();
        var labels = LabelsFor(request);
        var evaluation = CellEvaluation.Evaluate(validation, test, cell.Thresholds, labels);
        metricsClock.Stop();

        var timings = new CellTimings(fitClock.Elapsed.TotalSeconds, predictClock.Elapsed.TotalSeconds,
            metricsClock.Elapsed.TotalSeconds, total.Elapsed.TotalSeconds);
        var rows = CellRows.Build(request, split, evaluation, timings, training);
        // Before the rows: a committed result file means its gallery is in place too.
        StoredMaps.Write(request, split.Test, test, evaluation, labels, testCondition);
        ResultsParquet.WriteCellFile(request.ResultPath, rows);
        return new CellRunSummary(rows.Count, timings.FitSeconds, timings.PredictSeconds, timings.MetricsSeconds,
            total.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Fits a feature model in one pass, or trains a trainable one: for its full epoch count, or under the
    /// validation-strategy experiment's early stopping, which scores the validation split after every epoch and ends
    /// on the weights of the best one. Training images come in a seeded order that changes every epoch, decoded once and
    /// kept in memory when they fit (<see cref="TrainingImageCache"/>).
    /// </summary>
    private static TrainingOutcome Fit(
        IAnomalyDetector detector, CellSpec cell, DataSplit split, CancellationToken cancellation, Action<int> epochDone)
    {
        var trainPaths = split.Train.Select(s => s.ImagePath).ToList();
        if (detector is not ITrainableDetector trainable)
        {
            detector.Fit(ImageBatches.Preprocessed(trainPaths, cell.ImageSize, cell.BatchSize, cancellation));
            return TrainingOutcome.OnePass;
        }

        // Decoded once when they fit in memory; the seeded epoch order is the same either way.
        using var cache = TrainingImageCache.BytesFor(trainPaths.Count, cell.ImageSize) <= TrainingImageCache.MaxBytes
            ? TrainingImageCache.Load(trainPaths, cell.ImageSize, cell.BatchSize, cancellation)
            : null;
        var indices = Enumerable.Range(0, trainPaths.Count).ToList();
        IEnumerable<TorchSharp.torch.Tensor> EpochBatches(int epoch)
        {
            var order = ImageBatches.EpochOrder(indices, cell.Seed, epoch);
            return cache is not null
                ? cache.Batches(order, cell.BatchSize, cancellation)
                : ImageBatches.Preprocessed([.. order.Select(i => trainPaths[i])], cell.ImageSize, cell.BatchSize, cancellation);
        }

        if (cell.Condition.Parameter != ConditionsSpec.EarlyStopping || cell.ValidationStrategy is not { } strategy)
        {
            var epochs = trainable.Train(EpochBatches, epoch =>
            {
                epochDone(epoch);
                return true;
            });
            return new TrainingOutcome(epochs, epochs);
        }

        var stopping = new EarlyStopping(strategy.Patience);
        ModuleCheckpoint? best = null;
        try
        {
            var run = trainable.Train(EpochBatches, epoch =>
            {
                epochDone(epoch);
                var validation = Score(detector, split.Validation, cell.ImageSize, cell.BatchSize, cancellation);
                if (stopping.Observe(epoch, ValidationMonitor.Value(strategy.Monitor, validation)))
                {
                    best?.Dispose();
                    best = trainable.Checkpoint();
                }
                return !stopping.ShouldStop;
            });
            if (best is null)
            {
                throw new FarmException(
                    $"early stopping: {strategy.Monitor} was undefined on the validation split after every epoch",
                    field: "conditions.validation_strategy.monitor");
            }
            trainable.Restore(best);
            return new TrainingOutcome(stopping.BestEpoch, run);
        }
        finally
        {
            best?.Dispose();
        }
    }

    /// <summary>
    /// Scores images once; <c>alter</c>, if given, changes each decoded image and mask first (e.g. drift). An anomalous
    /// image without a mask keeps a null mask (no pixel ground truth), whatever <c>alter</c> does.
    /// </summary>
    public static ScoredImages Score(
        IAnomalyDetector detector,
        IReadOnlyList<ImageSample> samples,
        int size,
        int batchSize,
        CancellationToken cancellation,
        Func<ImageSample, RgbImage, BinaryMask, (RgbImage Image, BinaryMask Mask)>? alter = null)
    {
        var scores = new List<float>(samples.Count);
        var maps = new List<float[]>(samples.Count);
        var masks = new List<bool[]?>(samples.Count);
        foreach (var chunk in samples.Chunk(batchSize))
        {
            cancellation.ThrowIfCancellationRequested();
            var loaded = chunk.Select((RgbImage Image, BinaryMask? Mask) (sample) =>
            {
                var (image, mask) = MvtecDataset.ReadImageAndGroundTruth(sample);
                if (alter is null)
                {
                    return (image, mask);
                }

                // alter moves a mask along with its image; without one it gets an empty stand-in, dropped after.
                var altered = alter(sample, image, mask ?? BinaryMask.Empty(image.Width, image.Height));
                return (altered.Image, mask is null ? null : altered.Mask);
            }).ToList();
            using var batch = Preprocessing.ToBatch(loaded.Select(l => l.Image).ToList(), size);
            var scored = detector.Predict(batch);
            scores.AddRange(scored.ImageScores);
            maps.AddRange(scored.Maps);
            masks.AddRange(loaded.Select(l => l.Mask is null ? null : Preprocessing.ResizeMask(l.Mask, size).Pixels));
        }

        return new ScoredImages(samples.Select(s => s.RelativePath).ToList(), samples.Select(s => s.IsAnomalous).ToArray(),
            scores.ToArray(), maps, masks, size, size);
    }

    /// <summary>The robustness experiments this engine applies to cells (specs asking for others are refused).</summary>
    public static IReadOnlyCollection<string> SupportedExperiments { get; } =
        [ConditionsSpec.Resolution, ConditionsSpec.Drift, ConditionsSpec.NoisyLabels, ConditionsSpec.ValidationStrategyExperiment];

    /// <summary>
    /// The split a cell trains and tests on under its condition. Noisy labels: anomalous test images replace a share
    /// of the normal training images (seeded). Validation strategy: a share of the training images joins validation
    /// (seeded by the condition seed, the same for both strategies). A split that cannot satisfy either is a FarmException.
    /// </summary>
    public static DataSplit ApplyTrainingCondition(CellSpec cell, DataSplit split)
    {
        var condition = cell.Condition;
        return condition.Experiment switch
        {
            ConditionsSpec.NoisyLabels => NoisyLabels.Contaminate(
                split, double.Parse(condition.Parameter!, CultureInfo.InvariantCulture), condition.Seed ?? 0).Split,
            ConditionsSpec.ValidationStrategyExperiment => ValidationHoldOut.Apply(
                split, (cell.ValidationStrategy ?? new ValidationStrategySettings()).Fraction, condition.Seed ?? 0),
            _ => split,
        };
    }

    /// <summary>Drift: the Table-10 transforms on test images only (validation stays clean), masks moved along.</summary>
    private static Func<ImageSample, RgbImage, BinaryMask, (RgbImage, BinaryMask)>? TestCondition(ConditionSpec condition) =>
        condition.Experiment == ConditionsSpec.Drift
            ? (sample, image, mask) =>
            {
                var drifted = DataDrift.Apply(image, mask, condition.Seed ?? 0, sample.RelativePath);
                return (drifted.Image, drifted.Mask);
            }
            : null;

    /// <summary>
    /// The clean condition and resolution (the cell's image size already is the condition's) need nothing more; any
    /// experiment this engine cannot apply must fail rather than quietly run on clean data.
    /// </summary>
    private static void RequireSupportedCondition(ConditionSpec condition)
    {
        if (condition.Experiment != ConditionSpec.None.Experiment && !SupportedExperiments.Contains(condition.Experiment))
        {
            throw new FarmException($"experiment '{condition.Experiment}' is not supported by this engine", field: "conditions");
        }
    }

    /// <summary>The spec's labels CSV, else <c>labels.csv</c> in the dataset folder (the generator writes one), else none.</summary>
    private static Func<string, ProductLabel?>? LabelsFor(CellRunRequest request)
    {
        var path = request.Cell.LabelsPath ?? Path.Combine(request.Split.Category.DatasetRoot, SyntheticDatasetGenerator.LabelsFileName);
        return File.Exists(path) ? DefectBreakdown.ByPath(ProductLabels.Read(path)) : null;
    }
}

public sealed record CellTimings(double FitSeconds, double PredictSeconds, double MetricsSeconds, double TotalSeconds);

/// <summary>
/// <see cref="Epochs"/>: epochs behind the evaluated weights (the chosen epoch under early stopping);
/// <see cref="EpochsRun"/>: epochs trained in all. Both null for feature models fitted in one pass.
/// </summary>
public sealed record TrainingOutcome(int? Epochs, int? EpochsRun)
{
    public static TrainingOutcome OnePass { get; } = new(null, null);
}
