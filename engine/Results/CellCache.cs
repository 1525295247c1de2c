using System.Text.Json;
using Farm.Engine.IO;
using Farm.Engine.Models;
using Farm.Engine.Sweeps;

namespace Farm.Engine.Results;

/// <summary>
/// Results of cells already computed, by <see cref="CellCacheKey"/>, shared by every sweep that writes below one
/// output folder, so a cell whose key has results is copied instead of recomputed (<c>--no-cache</c> skips the cache).
/// Layout: <c>&lt;root&gt;/&lt;key[0..2]&gt;/&lt;key&gt;.parquet.cache</c> (the cell's result file, byte for byte) and
/// <c>&lt;key&gt;.json</c> beside it (the key's inputs, for humans). The default root is
/// <c>&lt;spec output&gt;/.farm-cache</c>; entries do not end in <c>.parquet</c>, so globs over the output folder
/// (<c>farm table</c>, DuckDB's <c>**/*.parquet</c>) never count cached rows twice.
/// Every write is a temp file renamed into place, so two silos storing one key at once leave one whole entry.
/// </summary>
public sealed class CellCache
{
    public const string DefaultFolderName = ".farm-cache";
    public const string EntryExtension = ".parquet.cache";
    public const string SidecarExtension = ".json";

    /// <summary>
    /// Columns that say which sweep a row belongs to rather than what was measured: the only ones a restore may change.
    /// <c>dataset</c> is the dataset's name in the spec, and <c>weights_file</c> the weights' file name: labels that
    /// the key leaves out (their content is in it).
    /// </summary>
    public static IReadOnlySet<string> SweepSpecificColumns { get; } =
        new HashSet<string> { "sweep_id", "sweep_name", "cell_id", "dataset", "weights_file" };

    private static readonly JsonSerializerOptions SidecarJson = new() { WriteIndented = true };

    private readonly Action<string> warn;

    /// <param name="root">The cache folder (created on the first store).</param>
    /// <param name="warn">Receives one line per cache entry ignored as corrupt; default: standard error.</param>
    public CellCache(string root, Action<string>? warn = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
        this.warn = warn ?? (message => Console.Error.WriteLine($"warning: {message}"));
    }

    public string Root { get; }

    /// <summary><c>&lt;output&gt;/.farm-cache</c>: the cache of every sweep writing below <paramref name="outputRoot"/>.</summary>
    public static string DefaultRoot(string outputRoot) => Path.Combine(outputRoot, DefaultFolderName);

    public string EntryPath(string key) => Path.Combine(Root, CheckKey(key)[..2], key + EntryExtension);

    public string SidecarPath(string key) => Path.Combine(Root, CheckKey(key)[..2], key + SidecarExtension);

    /// <summary>The cached anomaly-map gallery of a key (<see cref="AnomalyMapGallery"/>'s folder layout).</summary>
    public string GalleryPath(string key) => Path.Combine(Root, CheckKey(key)[..2], key + GalleryExtension);

    public const string GalleryExtension = ".maps";

    /// <summary>
    /// Keeps a computed cell's gallery folder with its cache entry (replaced as a whole), so a cell restored later still
    /// has its pictures in reports. A cell without a gallery (galleries off, or nothing to show) stores none.
    /// </summary>
    public void StoreGallery(CellCacheKey key, string galleryFolder)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!File.Exists(Path.Combine(galleryFolder, AnomalyMapGallery.IndexFileName)))
        {
            return;
        }

        var index = AnomalyMapGallery.ReadIndex(galleryFolder);
        AnomalyMapGallery.Write(GalleryPath(key.Value), index, temporary => CopyPictures(galleryFolder, temporary));
    }

    /// <summary>
    /// Copies the cached gallery of <paramref name="key"/>, if any, to <paramref name="galleryFolder"/> (replaced as a
    /// whole), its index naming the restoring sweep's cell and dataset. Returns whether there was one; a gallery that
    /// cannot be read costs a warning, never the cell.
    /// </summary>
    public bool TryRestoreGallery(CellCacheKey key, string galleryFolder, CellSpec cell)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(cell);
        var cached = GalleryPath(key.Value);
        if (!File.Exists(Path.Combine(cached, AnomalyMapGallery.IndexFileName)))
        {
            return false;
        }

        try
        {
            var index = AnomalyMapGallery.ReadIndex(cached) with { CellId = cell.CellId, Dataset = cell.DatasetName };
            AnomalyMapGallery.Write(galleryFolder, index, temporary => CopyPictures(cached, temporary));
            return true;
        }
        catch (Exception error) when (error is FarmException or IOException or UnauthorizedAccessException)
        {
            warn($"could not restore the cached anomaly-map gallery {cached}: {error.Message}");
            return false;
        }
    }

    private static void CopyPictures(string from, string to)
    {
        foreach (var picture in Directory.EnumerateFiles(from, "*.png"))
        {
            File.Copy(picture, Path.Combine(to, Path.GetFileName(picture)));
        }
    }

    /// <summary>
    /// A row rebinder for <see cref="TryRestore(CellCacheKey, string, Func{ResultRow, ResultRow}, out int)"/>: the
    /// sweep id and name of the new sweep, and the cell's id, dataset name and weights file name as it plans them.
    /// </summary>
    public static Func<ResultRow, ResultRow> RebindTo(string sweepId, string sweepName, CellSpec cell) => row => row with
    {
        SweepId = sweepId,
        SweepName = sweepName,
        CellId = cell.CellId,
        Dataset = cell.DatasetName,
        WeightsFile = cell.Model.WeightsPath is { } weights ? Path.GetFileName(weights) : null,
    };

    public bool TryRestore(CellCacheKey key, string targetResultPath, Func<ResultRow, ResultRow> rebind) =>
        TryRestore(key, targetResultPath, rebind, out _);

    /// <summary>
    /// On a hit, writes the cached rows, passed through <paramref name="rebind"/>, atomically to
    /// <paramref name="targetResultPath"/> and returns true with the row count. A miss returns false. An entry that
    /// cannot be read, has no rows, or whose rows do not belong to <paramref name="key"/> is a miss: one warning, and
    /// nothing is written. <paramref name="rebind"/> may change only <see cref="SweepSpecificColumns"/>.
    /// </summary>
    public bool TryRestore(CellCacheKey key, string targetResultPath, Func<ResultRow, ResultRow> rebind, out int rows)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(rebind);
        rows = 0;
        var entry = EntryPath(key.Value);
        if (!File.Exists(entry))
        {
            return false;
        }

        IReadOnlyList<ResultRow> cached;
        try
        {
            cached = ResultsParquet.ReadFile(entry);
        }
        catch (FarmException error)
        {
            warn($"ignoring a corrupt cell cache entry (the cell is computed again): {error.Message}");
            return false;
        }
        if (Mismatch(key, cached) is { } problem)
        {
            warn($"ignoring a cell cache entry that does not match its key (the cell is computed again): {entry}: {problem}");
            return false;
        }

        var rebound = cached.Select(row => Rebound(row, rebind)).ToList();
        ResultsParquet.WriteCellFile(targetResultPath, rebound);
        rows = rebound.Count;
        return true;
    }

    /// <summary>
    /// Copies the result file of a computed cell into the cache under <paramref name="key"/>, byte for byte, through a
    /// temp file and a rename, then writes the sidecar the same way. Throws <see cref="ArgumentException"/> when the
    /// file's rows do not belong to the key (another cell's file, or one written by another Farm version), and a
    /// <see cref="FarmException"/> naming the file when it cannot be read.
    /// </summary>
    public void Store(CellCacheKey key, string resultPath)
    {
        ArgumentNullException.ThrowIfNull(key);
        var rows = ResultsParquet.ReadFile(resultPath);
        if (Mismatch(key, rows) is { } problem)
        {
            throw new ArgumentException($"{resultPath}: not the results of cache key {key.Value}: {problem}",
                nameof(resultPath));
        }

        AtomicFile.Write(EntryPath(key.Value), stream =>
        {
            using var source = File.OpenRead(resultPath);
            source.CopyTo(stream);
        });
        var first = rows[0];
        var sidecar = new Dictionary<string, object?>
        {
            ["key"] = key.Value,
            ["key_version"] = CellCacheKey.KeyVersion,
            ["config_hash"] = key.ConfigHash,
            ["dataset_hash"] = key.DatasetHash,
            ["weights_sha256"] = key.WeightsSha256,
            ["labels_sha256"] = key.LabelsSha256,
            ["farm_version"] = key.FarmVersion,
            ["device"] = key.DeviceKind,
            ["config"] = JsonDocument.Parse(key.CanonicalConfig).RootElement,
            ["computed_by"] = new Dictionary<string, string>
            {
                ["sweep_id"] = first.SweepId,
                ["sweep_name"] = first.SweepName,
                ["cell_id"] = first.CellId,
                ["dataset"] = first.Dataset,
            },
            ["rows"] = rows.Count,
            ["stored_utc"] = DateTime.UtcNow.ToString("O"),
        };
        AtomicFile.WriteAllText(SidecarPath(key.Value), JsonSerializer.Serialize(sidecar, SidecarJson) + "\n");
    }

    /// <summary>Why <paramref name="rows"/> are not results for <paramref name="key"/>; null when they are.</summary>
    private static string? Mismatch(CellCacheKey key, IReadOnlyList<ResultRow> rows)
    {
        if (rows.Count == 0)
        {
            return "the file has no rows";
        }
        foreach (var row in rows)
        {
            if (row.ConfigHash != key.ConfigHash)
            {
                return $"config_hash is {row.ConfigHash}, the key's is {key.ConfigHash}";
            }
            if (row.FarmVersion != key.FarmVersion)
            {
                return $"farm_version is '{row.FarmVersion}', the key's is '{key.FarmVersion}'";
            }
            if (row.DatasetHash is { } datasetHash && datasetHash != key.DatasetHash)
            {
                return $"dataset_hash is {datasetHash}, the key's is {key.DatasetHash}";
            }
            if (row.Device is { } device && ComputeDevice.KindOf(device) != key.DeviceKind)
            {
                return $"device is {device}, the key's is {key.DeviceKind}";
            }
            if (row.WeightsSha256 != key.WeightsSha256)
            {
                return $"weights_sha256 is {row.WeightsSha256 ?? "null"}, the key's is {key.WeightsSha256 ?? "null"}";
            }
        }
        return null;
    }

    // A cached row is a measurement: the rebinder relabels it, and must not touch what was measured.
    private static ResultRow Rebound(ResultRow row, Func<ResultRow, ResultRow> rebind)
    {
        var rebound = rebind(row);
        foreach (var column in ResultColumns.Names)
        {
            if (!SweepSpecificColumns.Contains(column) &&
                !Equals(ResultColumns.Get(row, column), ResultColumns.Get(rebound, column)))
            {
                throw new ArgumentException($"the rebinder changed column {column}; it may change only " +
                    string.Join(", ", SweepSpecificColumns), nameof(rebind));
            }
        }
        return rebound;
    }

    private static string CheckKey(string key) => CellCacheKey.IsWellFormed(key)
        ? key
        : throw new ArgumentException($"not a cell cache key (64 lower-case hex digits): '{key}'", nameof(key));
}
