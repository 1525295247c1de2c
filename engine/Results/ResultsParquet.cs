using Farm.Engine.IO;
using Parquet;
using Parquet.Schema;

namespace Farm.Engine.Results;

/// <summary>
/// Result files: one Parquet file per cell (schema: <see cref="ResultColumns"/>), written atomically so that readers
/// (DuckDB, pandas, the farm) never see a partial file and re-running a cell replaces its file.
/// </summary>
public static class ResultsParquet
{
    public const string Extension = ".parquet";

    /// <summary>Temporary files are <c>&lt;final name&gt;.tmp-&lt;guid&gt;</c>: they never match <c>*.parquet</c>.</summary>
    public const string TempMarker = AtomicFile.TempMarker;

    private static readonly ParquetSchema Schema = new(ResultColumns.All.Select(c => (Field)c.Field));

    // The synchronous forms run on the thread pool so that blocking on them cannot deadlock a caller that has a
    // synchronisation context (an Orleans grain, a UI); async callers should use the *Async forms.
    public static void WriteCellFile(string path, IReadOnlyList<ResultRow> rows) =>
        Task.Run(() => WriteCellFileAsync(path, rows)).GetAwaiter().GetResult();

    /// <summary>
    /// Writes <paramref name="rows"/> to <c>path.tmp-&lt;guid&gt;</c> in the same folder, flushes it to disk, then
    /// renames it over <paramref name="path"/> (an atomic replace on POSIX and NTFS). The temp file is removed on failure.
    /// </summary>
    public static async Task WriteCellFileAsync(string path, IReadOnlyList<ResultRow> rows,
        CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0)
        {
            throw new ArgumentException("a cell file needs at least one row", nameof(rows));
        }
        var fullPath = Path.GetFullPath(path);
        if (!fullPath.EndsWith(Extension, StringComparison.Ordinal))
        {
            throw new ArgumentException($"result files end in {Extension} (readers glob for it): {path}", nameof(path));
        }
        await AtomicFile.WriteAsync(fullPath, async (stream, cancellation) =>
        {
            await using var writer = await ParquetWriter.CreateAsync(Schema, stream, cancellationToken: cancellation);
            writer.CustomMetadata = new Dictionary<string, string>
            {
                [ResultColumns.SchemaVersionKey] = ResultColumns.SchemaVersion,
            };
            using var group = writer.CreateRowGroup();
            foreach (var column in ResultColumns.All)
            {
                await column.WriteAsync(group, rows);
            }
        }, cancellationToken);
    }

    public static IReadOnlyList<ResultRow> ReadFile(string path) =>
        Task.Run(() => ReadFileAsync(path)).GetAwaiter().GetResult();

    public static async Task<IReadOnlyList<ResultRow>> ReadFileAsync(string path,
        CancellationToken cancellationToken = default)
    {
        try
        {
            await using var reader = await ParquetReader.CreateAsync(path, cancellationToken: cancellationToken);
            var fileFields = reader.Schema.DataFields.ToDictionary(f => f.Name);
            var rows = new List<ResultRow>();
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                var count = checked((int)group.RowCount);
                var columns = new Dictionary<string, Array>();
                foreach (var column in ResultColumns.All)
                {
                    if (fileFields.TryGetValue(column.Name, out var fileField))
                    {
                        columns[column.Name] = await column.ReadAsync(group, fileField, count);
                    }
                    else if (!column.Field.IsNullable)
                    {
                        throw new FarmException("missing required column", path, column.Name);
                    }
                }
                rows.AddRange(ToRows(new ColumnData(columns, path), count));
            }
            return rows;
        }
        catch (Exception e) when (e is not FarmException and not OperationCanceledException)
        {
            throw new FarmException($"cannot read result file: {e.Message}", path, inner: e);
        }
    }

    public static IReadOnlyList<ResultRow> ReadAll(string resultsRoot) =>
        Task.Run(() => ReadAllAsync(resultsRoot)).GetAwaiter().GetResult();

    /// <summary>Every row of every <c>*.parquet</c> file below <paramref name="resultsRoot"/>, files in ordinal path order.</summary>
    public static async Task<IReadOnlyList<ResultRow>> ReadAllAsync(string resultsRoot,
        CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(resultsRoot))
        {
            throw new FarmException("results folder not found", resultsRoot);
        }
        var files = Directory.EnumerateFiles(resultsRoot, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(Extension, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        var rows = new List<ResultRow>();
        foreach (var file in files)
        {
            rows.AddRange(await ReadFileAsync(file, cancellationToken));
        }
        return rows;
    }

    private static IEnumerable<ResultRow> ToRows(ColumnData c, int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return new ResultRow
            {
                SweepId = c.Text("sweep_id", i),
                SweepName = c.Text("sweep_name", i),
                CellId = c.Text("cell_id", i),
                ConfigHash = c.Text("config_hash", i),
                Dataset = c.Text("dataset", i),
                DatasetFormat = c.Text("dataset_format", i),
                DatasetHash = c.NullableText("dataset_hash", i),
                Category = c.Text("category", i),
                DefectCategory = c.Text("defect_category", i),
                Background = c.Value<bool>("background", i),
                Experiment = c.Text("experiment", i),
                ConditionParameter = c.NullableText("condition_parameter", i),
                ConditionSeed = c.Value<int>("condition_seed", i),
                Model = c.Text("model", i),
                Backbone = c.Text("backbone", i),
                WeightsFile = c.NullableText("weights_file", i),
                WeightsSha256 = c.NullableText("weights_sha256", i),
                ImageSize = c.Required<int>("image_size", i),
                Seed = c.Required<int>("seed", i),
                ThresholdMethod = c.Text("threshold_method", i),
                ImageThreshold = c.Metric("image_threshold", i),
                PixelThreshold = c.Metric("pixel_threshold", i),
                ImageAuroc = c.Metric("image_auroc", i),
                ImageAupr = c.Metric("image_aupr", i),
                ImageF1Max = c.Metric("image_f1max", i),
                ImagePg2 = c.Metric("image_pg2", i),
                ImagePb2 = c.Metric("image_pb2", i),
                PixelAuroc = c.Metric("pixel_auroc", i),
                PixelAupro = c.Metric("pixel_aupro", i),
                PixelF1Max = c.Metric("pixel_f1max", i),
                PixelIouMax = c.Metric("pixel_iou_max", i),
                PixelPrecision = c.Metric("pixel_precision", i),
                PixelRecall = c.Metric("pixel_recall", i),
                PixelF1 = c.Metric("pixel_f1", i),
                PixelIou = c.Metric("pixel_iou", i),
                ImageAccuracy = c.Metric("image_accuracy", i),
                ImageFpr = c.Metric("image_fpr", i),
                ImageFnr = c.Metric("image_fnr", i),
                NTrain = c.Required<int>("n_train", i),
                NValidation = c.Required<int>("n_validation", i),
                NTestNormal = c.Required<int>("n_test_normal", i),
                NTestAnomalous = c.Required<int>("n_test_anomalous", i),
                Epochs = c.Value<int>("epochs", i),
                EpochsRun = c.Value<int>("epochs_run", i),
                FitSeconds = c.Required<double>("fit_seconds", i),
                PredictSeconds = c.Required<double>("predict_seconds", i),
                MetricsSeconds = c.Required<double>("metrics_seconds", i),
                TotalSeconds = c.Required<double>("total_seconds", i),
                Device = c.NullableText("device", i),
                FarmVersion = c.Text("farm_version", i),
                CreatedUtc = DateTime.SpecifyKind(c.Required<DateTime>("created_utc", i), DateTimeKind.Utc),
            };
        }
    }

    /// <summary>One row group's columns by name; a nullable column absent from an older file reads as null.</summary>
    private sealed class ColumnData(Dictionary<string, Array> columns, string path)
    {
        public string? NullableText(string name, int i) => columns.TryGetValue(name, out var a) ? ((string?[])a)[i] : null;

        public string Text(string name, int i) =>
            NullableText(name, i) ?? throw new FarmException($"null in row {i}", path, name);

        public T? Value<T>(string name, int i) where T : struct =>
            columns.TryGetValue(name, out var a) ? ((T?[])a)[i] : null;

        public T Required<T>(string name, int i) where T : struct =>
            Value<T>(name, i) ?? throw new FarmException($"null in row {i}", path, name);

        public double Metric(string name, int i) => Value<double>(name, i) ?? double.NaN;
    }
}
