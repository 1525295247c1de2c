namespace Farm.Engine.Results;

/// <summary>
/// One result: a cell × a threshold method × a defect category ("all" for the overall row). Columns are documented in
/// docs/results-schema.md, in this order. Metrics are in [0, 1]; <see cref="double.NaN"/> means undefined (stored as
/// Parquet null) and is also the default, so a metric nobody computed can never pass for a real 0.
/// </summary>
public sealed record ResultRow
{
    public const string AllDefects = "all";

    // Identity
    public required string SweepId { get; init; }
    public required string SweepName { get; init; }
    public required string CellId { get; init; }
    public required string ConfigHash { get; init; }
    public required string Dataset { get; init; }
    public required string DatasetFormat { get; init; }
    public string? DatasetHash { get; init; }
    public required string Category { get; init; }
    public string DefectCategory { get; init; } = AllDefects;

    /// <summary>The product's background flag from the labels (object on a backdrop = true); null without labels.</summary>
    public bool? Background { get; init; }
    public required string Experiment { get; init; }
    public string? ConditionParameter { get; init; }
    public int? ConditionSeed { get; init; }
    public required string Model { get; init; }
    public required string Backbone { get; init; }
    /// <summary>File name of the backbone weights; null for a seeded random initialisation.</summary>
    public string? WeightsFile { get; init; }
    public string? WeightsSha256 { get; init; }
    public required int ImageSize { get; init; }
    public required int Seed { get; init; }
    public required string ThresholdMethod { get; init; }

    // Thresholds the method estimated on the validation split (raw anomaly-score units).
    public double ImageThreshold { get; init; } = double.NaN;
    public double PixelThreshold { get; init; } = double.NaN;

    // Threshold-independent metrics: equal on every threshold_method row of a cell.
    public double ImageAuroc { get; init; } = double.NaN;
    public double ImageAupr { get; init; } = double.NaN;
    public double ImageF1Max { get; init; } = double.NaN;
    public double ImagePg2 { get; init; } = double.NaN;
    public double ImagePb2 { get; init; } = double.NaN;
    public double PixelAuroc { get; init; } = double.NaN;
    public double PixelAupro { get; init; } = double.NaN;
    public double PixelF1Max { get; init; } = double.NaN;
    public double PixelIouMax { get; init; } = double.NaN;

    // Metrics at the estimated thresholds.
    public double PixelPrecision { get; init; } = double.NaN;
    public double PixelRecall { get; init; } = double.NaN;
    public double PixelF1 { get; init; } = double.NaN;
    public double PixelIou { get; init; } = double.NaN;
    public double ImageAccuracy { get; init; } = double.NaN;
    public double ImageFpr { get; init; } = double.NaN;
    public double ImageFnr { get; init; } = double.NaN;

    // Split sizes (images) and run facts.
    public required int NTrain { get; init; }
    public required int NValidation { get; init; }
    public required int NTestNormal { get; init; }
    public required int NTestAnomalous { get; init; }
    /// <summary>Epochs behind the evaluated weights (the chosen one under early stopping); null for one-pass models.</summary>
    public int? Epochs { get; init; }

    /// <summary>Epochs trained in all (beyond <see cref="Epochs"/> when early stopping waited out its patience).</summary>
    public int? EpochsRun { get; init; }
    public required double FitSeconds { get; init; }
    public required double PredictSeconds { get; init; }
    public required double MetricsSeconds { get; init; }
    public required double TotalSeconds { get; init; }
    /// <summary>Where the model computed: <c>cpu</c> or <c>cuda:N</c>; null in files written before Farm recorded it.</summary>
    public string? Device { get; init; }

    public required string FarmVersion { get; init; }
    public required DateTime CreatedUtc { get; init; }
}
