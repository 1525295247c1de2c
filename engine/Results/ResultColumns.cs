using Parquet;
using Parquet.Schema;

namespace Farm.Engine.Results;

/// <summary>
/// The columns of result files, in file order, with their Parquet types. The single place that maps
/// <see cref="ResultRow"/> properties to snake_case column names; docs/results-schema.md documents each one.
/// </summary>
public static class ResultColumns
{
    /// <summary>Stored in each file's key-value metadata; bump when a column changes meaning or type.</summary>
    public const string SchemaVersion = "1";
    public const string SchemaVersionKey = "farm.results_schema_version";

    internal static readonly IReadOnlyList<ResultColumn> All =
    [
        Text("sweep_id", r => r.SweepId),
        Text("sweep_name", r => r.SweepName),
        Text("cell_id", r => r.CellId),
        Text("config_hash", r => r.ConfigHash),
        Text("dataset", r => r.Dataset),
        Text("dataset_format", r => r.DatasetFormat),
        Text("dataset_hash", r => r.DatasetHash, nullable: true),
        Text("category", r => r.Category),
        Text("defect_category", r => r.DefectCategory),
        new ValueColumn<bool>(new DataField<bool>("background", true), r => r.Background),
        Text("experiment", r => r.Experiment),
        Text("condition_parameter", r => r.ConditionParameter, nullable: true),
        Int("condition_seed", r => r.ConditionSeed, nullable: true),
        Text("model", r => r.Model),
        Text("backbone", r => r.Backbone),
        Text("weights_file", r => r.WeightsFile, nullable: true),
        Text("weights_sha256", r => r.WeightsSha256, nullable: true),
        Int("image_size", r => r.ImageSize),
        Int("seed", r => r.Seed),
        Text("threshold_method", r => r.ThresholdMethod),
        Metric("image_threshold", r => r.ImageThreshold),
        Metric("pixel_threshold", r => r.PixelThreshold),
        Metric("image_auroc", r => r.ImageAuroc),
        Metric("image_aupr", r => r.ImageAupr),
        Metric("image_f1max", r => r.ImageF1Max),
        Metric("image_pg2", r => r.ImagePg2),
        Metric("image_pb2", r => r.ImagePb2),
        Metric("pixel_auroc", r => r.PixelAuroc),
        Metric("pixel_aupro", r => r.PixelAupro),
        Metric("pixel_f1max", r => r.PixelF1Max),
        Metric("pixel_iou_max", r => r.PixelIouMax),
        Metric("pixel_precision", r => r.PixelPrecision),
        Metric("pixel_recall", r => r.PixelRecall),
        Metric("pixel_f1", r => r.PixelF1),
        Metric("pixel_iou", r => r.PixelIou),
        Metric("image_accuracy", r => r.ImageAccuracy),
        Metric("image_fpr", r => r.ImageFpr),
        Metric("image_fnr", r => r.ImageFnr),
        Int("n_train", r => r.NTrain),
        Int("n_validation", r => r.NValidation),
        Int("n_test_normal", r => r.NTestNormal),
        Int("n_test_anomalous", r => r.NTestAnomalous),
        Int("epochs", r => r.Epochs, nullable: true),
        Int("epochs_run", r => r.EpochsRun, nullable: true),
        Seconds("fit_seconds", r => r.FitSeconds),
        Seconds("predict_seconds", r => r.PredictSeconds),
        Seconds("metrics_seconds", r => r.MetricsSeconds),
        Seconds("total_seconds", r => r.TotalSeconds),
        Text("device", r => r.Device, nullable: true),
        Text("farm_version", r => r.FarmVersion),
        new ValueColumn<DateTime>(
            new DateTimeDataField("created_utc", DateTimeFormat.Timestamp, isAdjustedToUTC: true,
                unit: DateTimeTimeUnit.Micros, isNullable: false),
            r => r.CreatedUtc.Kind == DateTimeKind.Local ? r.CreatedUtc.ToUniversalTime() : r.CreatedUtc),
    ];

    private static readonly Dictionary<string, ResultColumn> ByName = All.ToDictionary(c => c.Name);

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(c => c.Name)];

    /// <summary>Metric columns that do not depend on the threshold method: identical on all rows of a cell.</summary>
    public static IReadOnlySet<string> ThresholdIndependent { get; } = new HashSet<string>
    {
        "image_auroc", "image_aupr", "image_f1max", "image_pg2", "image_pb2",
        "pixel_auroc", "pixel_aupro", "pixel_f1max", "pixel_iou_max",
    };

    /// <summary>Thresholds and the metrics computed at them: they differ between threshold-method rows.</summary>
    public static IReadOnlySet<string> ThresholdDependent { get; } = new HashSet<string>
    {
        "image_threshold", "pixel_threshold",
        "pixel_precision", "pixel_recall", "pixel_f1", "pixel_iou", "image_accuracy", "image_fpr", "image_fnr",
    };

    /// <summary>A column's value by its name; metrics give NaN when undefined, other nullable columns null.</summary>
    public static object? Get(ResultRow row, string column) => Find(column).Value(row);

    internal static ResultColumn Find(string column) => ByName.TryGetValue(column, out var found)
        ? found
        : throw new ArgumentException($"unknown result column '{column}'; columns: {string.Join(", ", Names)}",
            nameof(column));

    private static ResultColumn Text(string name, Func<ResultRow, string?> get, bool nullable = false) =>
        new TextColumn(name, get, nullable);

    private static ResultColumn Int(string name, Func<ResultRow, int?> get, bool nullable = false) =>
        new ValueColumn<int>(new DataField<int>(name, nullable), get);

    // NaN (undefined) is stored as null, so that SQL aggregates skip it instead of returning NaN.
    private static ResultColumn Metric(string name, Func<ResultRow, double> get) =>
        new ValueColumn<double>(new DataField<double>(name, true), r => get(r) is var v && double.IsNaN(v) ? null : v)
        {
            IsMetric = true,
        };

    private static ResultColumn Seconds(string name, Func<ResultRow, double> get) =>
        new ValueColumn<double>(new DataField<double>(name, false), r => get(r));
}

/// <summary>One column: how to take it from rows and how to write and read it.</summary>
internal abstract class ResultColumn(DataField field)
{
    public DataField Field { get; } = field;
    public string Name => Field.Name;
    public bool IsMetric { get; init; }

    /// <summary>Numbers a table can average: metrics, counts, epochs, thresholds, seconds.</summary>
    public virtual bool IsNumeric => false;

    /// <summary>The row's value (boxed); for metrics NaN rather than null.</summary>
    public abstract object? Value(ResultRow row);

    public abstract Task WriteAsync(ParquetRowGroupWriter writer, IReadOnlyList<ResultRow> rows);

    /// <summary>Reads the column of one row group, as the file stores it, nulls included.</summary>
    public abstract Task<Array> ReadAsync(ParquetRowGroupReader reader, DataField fileField, int count);
}

internal sealed class TextColumn(string name, Func<ResultRow, string?> get, bool nullable)
    : ResultColumn(new DataField<string>(name, nullable))
{
    public override object? Value(ResultRow row) => get(row);

    public override Task WriteAsync(ParquetRowGroupWriter writer, IReadOnlyList<ResultRow> rows)
    {
        var values = rows.Select(get).ToArray();
        // Parquet.Net would store a null in a required column without complaint; refuse it here.
        if (!Field.IsNullable && Array.IndexOf(values, null) is var row and >= 0)
        {
            throw new ArgumentException($"column {Name} must not be null (row {row})", nameof(rows));
        }
        return writer.WriteAsync(Field, values!);
    }

    public override async Task<Array> ReadAsync(ParquetRowGroupReader reader, DataField fileField, int count)
    {
        var values = new string?[count];
        await reader.ReadAsync(fileField, values.AsMemory());
        return values;
    }
}

internal sealed class ValueColumn<T>(DataField field, Func<ResultRow, T?> get) : ResultColumn(field)
    where T : struct
{
    public override object? Value(ResultRow row) =>
        IsMetric && get(row) is null ? double.NaN : get(row);

    public override bool IsNumeric => typeof(T) == typeof(int) || typeof(T) == typeof(double);

    public override Task WriteAsync(ParquetRowGroupWriter writer, IReadOnlyList<ResultRow> rows)
    {
        var values = rows.Select(get).ToArray();
        if (Field.IsNullable)
        {
            return writer.WriteAsync<T>(Field, values.AsMemory());
        }
        var required = values
            .Select((v, row) => v ?? throw new ArgumentException($"column {Name} must not be null (row {row})", nameof(rows)))
            .ToArray();
        return writer.WriteAsync<T>(Field, required.AsMemory());
    }

    public override async Task<Array> ReadAsync(ParquetRowGroupReader reader, DataField fileField, int count)
    {
        var values = new T?[count];
        if (fileField.IsNullable)
        {
            await reader.ReadAsync<T>(fileField, values.AsMemory());
            return values;
        }
        var required = new T[count];
        await reader.ReadAsync<T>(fileField, required.AsMemory());
        for (var i = 0; i < count; i++)
        {
            values[i] = required[i];
        }
        return values;
    }
}
