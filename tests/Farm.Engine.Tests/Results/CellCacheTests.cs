using System.Text.Json;
using Farm.Engine.IO;
using Farm.Engine.Results;
using Farm.Engine.Sweeps;

namespace Farm.Engine.Tests.Results;

public sealed class CellCacheTests : IDisposable
{
    private const string DatasetHash = "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1";
    private const string Version = "0.1.0+test";

    private readonly string root = Directory.CreateTempSubdirectory("farm-cache-").FullName;
    private readonly List<string> warnings = [];

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string Weights => Path.Combine(root, "weights.safetensors");

    private CellSpec Cell(string sweepName = "nightly", string datasetName = "mvtec", int seed = 0,
        string nFeatures = "100", string? weights = null) => new(
        sweepName, datasetName, "mvtec", "/data/mvtec", null, "bottle", ConditionSpec.None,
        new ModelSpec("padim", "resnet18", weights, new OptionMap([new("n_features", nFeatures)])),
        seed, 256, 16, EquatableArray.From("f1max", "iou"), new ValidationSpec());

    private CellCacheKey Key(CellSpec cell, string datasetHash = DatasetHash, string version = Version, string device = "cpu") =>
        CellCacheKey.Compute(cell, datasetHash, cell.Model.WeightsPath, version, device);

    [Fact]
    public void TheSameCellInTwoSweepsHasOneKey()
    {
        // Another sweep name and another label for the same dataset: labels, not measurements.
        var first = Key(Cell(sweepName: "nightly"));
        var second = Key(Cell(sweepName: "adhoc", datasetName: "mvtec-copy"));

        Assert.Equal(first.Value, second.Value);
        Assert.True(CellCacheKey.IsWellFormed(first.Value));
    }

    [Fact]
    public void EverythingThatChangesResultsChangesTheKey()
    {
        File.WriteAllBytes(Weights, [1, 2, 3, 4]);
        var baseline = Key(Cell(weights: Weights)).Value;

        Assert.NotEqual(baseline, Key(Cell(seed: 1, weights: Weights)).Value);
        Assert.NotEqual(baseline, Key(Cell(nFeatures: "200", weights: Weights)).Value);
        Assert.NotEqual(baseline, Key(Cell(weights: Weights), datasetHash: new string('e', 64)).Value);
        Assert.NotEqual(baseline, Key(Cell(weights: Weights), version: "0.2.0").Value);
        Assert.NotEqual(baseline, Key(Cell()).Value); // random initialisation instead of the weights
        // A GPU computes the cell with other arithmetic: another key; which GPU does not matter.
        var onGpu = Key(Cell(weights: Weights), device: "cuda:0");
        Assert.NotEqual(baseline, onGpu.Value);
        Assert.Equal("cuda", onGpu.DeviceKind);
        Assert.Equal(onGpu.Value, Key(Cell(weights: Weights), device: "cuda:3").Value);

        // Same path, new content (and a new modification time): a new key.
        File.WriteAllBytes(Weights, [1, 2, 3, 5]);
        File.SetLastWriteTimeUtc(Weights, File.GetLastWriteTimeUtc(Weights).AddSeconds(5));
        Assert.NotEqual(baseline, Key(Cell(weights: Weights)).Value);
    }

    [Fact]
    public void WeightsAreHashedOncePerPathLengthAndModificationTime()
    {
        File.WriteAllBytes(Weights, [9, 9, 9]);
        var stamp = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Weights, stamp);
        var hashed = CellCacheKey.ContentSha256(Weights);
        Assert.Equal(FileHashes.Sha256(Weights), hashed);

        // Same length and time: the memo answers without reading the file again (the stale answer proves it).
        File.WriteAllBytes(Weights, [8, 8, 8]);
        File.SetLastWriteTimeUtc(Weights, stamp);
        Assert.Equal(hashed, CellCacheKey.ContentSha256(Weights));

        File.SetLastWriteTimeUtc(Weights, stamp.AddSeconds(1));
        Assert.Equal(FileHashes.Sha256(Weights), CellCacheKey.ContentSha256(Weights));
        Assert.NotEqual(hashed, CellCacheKey.ContentSha256(Weights));
    }

    [Fact]
    public void AMissingWeightsFileIsAnErrorNamingIt()
    {
        var missing = Path.Combine(root, "absent.safetensors");

        var error = Assert.Throws<FarmException>(() => Key(Cell(weights: missing)));

        Assert.Equal(missing, error.File);
    }

    [Fact]
    public void RestoreRewritesTheSweepColumnsAndKeepsEveryMeasurementBitForBit()
    {
        var cache = new CellCache(CellCache.DefaultRoot(root), warnings.Add);
        var original = Cell(sweepName: "nightly");
        var key = Key(original);
        var computed = WriteComputedCell(original, "20250101T020000Z-00000001");
        cache.Store(key, computed);

        var rerun = Cell(sweepName: "adhoc", datasetName: "mvtec-copy");
        var target = new ResultsLayout(root, "adhoc", "20250102T020000Z-00000002").CellFile(rerun.CellId);
        var hit = cache.TryRestore(Key(rerun), target,
            CellCache.RebindTo("20250102T020000Z-00000002", "adhoc", rerun), out var restoredRows);

        Assert.True(hit);
        var before = ResultsParquet.ReadFile(computed);
        var after = ResultsParquet.ReadFile(target);
        Assert.Equal(before.Count, restoredRows);
        Assert.Equal(before.Count, after.Count);
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Equal("20250102T020000Z-00000002", after[i].SweepId);
            Assert.Equal("adhoc", after[i].SweepName);
            Assert.Equal(rerun.CellId, after[i].CellId);
            Assert.Equal("mvtec-copy", after[i].Dataset);
            Assert.NotEqual(before[i].CellId, after[i].CellId);
            foreach (var column in ResultColumns.Names.Where(c => !CellCache.SweepSpecificColumns.Contains(c)))
            {
                var (was, now) = (ResultColumns.Get(before[i], column), ResultColumns.Get(after[i], column));
                if (was is double x && now is double y)
                {
                    Assert.Equal(BitConverter.DoubleToInt64Bits(x), BitConverter.DoubleToInt64Bits(y));
                }
                else
                {
                    Assert.Equal(was, now);
                }
            }
        }
        Assert.Empty(warnings);
    }

    [Fact]
    public void StoreLaysOutTheEntryAndASidecarOutsideTheResultGlob()
    {
        var cache = new CellCache(CellCache.DefaultRoot(root), warnings.Add);
        var cell = Cell();
        var key = Key(cell);
        var computed = WriteComputedCell(cell, "20250101T020000Z-00000001");

        cache.Store(key, computed);

        var entry = Path.Combine(root, ".farm-cache", key.Value[..2], key.Value + ".parquet.cache");
        Assert.Equal(entry, cache.EntryPath(key.Value));
        Assert.Equal(File.ReadAllBytes(computed), File.ReadAllBytes(entry));
        using var sidecar = JsonDocument.Parse(File.ReadAllText(cache.SidecarPath(key.Value)));
        Assert.Equal(key.Value, sidecar.RootElement.GetProperty("key").GetString());
        Assert.Equal(cell.ConfigHash, sidecar.RootElement.GetProperty("config_hash").GetString());
        Assert.Equal(Version, sidecar.RootElement.GetProperty("farm_version").GetString());
        Assert.Equal("100", sidecar.RootElement.GetProperty("config").GetProperty("model").GetProperty("options")
            .GetProperty("n_features").GetString());
        // Reading the whole output folder sees the computed cell once, not its cached copy too.
        Assert.Equal(ResultsParquet.ReadFile(computed).Count, ResultsParquet.ReadAll(root).Count);
    }

    [Fact]
    public void RowsComputedOnAGpuAreNotStoredUnderACpuKey()
    {
        var cache = new CellCache(CellCache.DefaultRoot(root), warnings.Add);
        var cell = Cell();
        var computed = WriteComputedCell(cell, "20250101T020000Z-00000001", device: "cuda:1");

        var error = Assert.Throws<ArgumentException>(() => cache.Store(Key(cell), computed));
        Assert.Contains("device is cuda:1, the key's is cpu", error.Message, StringComparison.Ordinal);

        cache.Store(Key(cell, device: "cuda:0"), computed);
        Assert.True(File.Exists(cache.EntryPath(Key(cell, device: "cuda:0").Value)));
    }

    [Fact]
    public void AMissIsFalseAndWritesNothing()
    {
        var cache = new CellCache(Path.Combine(root, "cache"), warnings.Add);
        var target = Path.Combine(root, "out", "cell.parquet");

        Assert.False(cache.TryRestore(Key(Cell()), target, row => row));

        Assert.False(File.Exists(target));
        Assert.Empty(warnings);
    }

    [Fact]
    public void ACorruptEntryIsAMissWithAWarningAndIsNotCopied()
    {
        var cache = new CellCache(Path.Combine(root, "cache"), warnings.Add);
        var cell = Cell();
        var key = Key(cell);
        cache.Store(key, WriteComputedCell(cell, "20250101T020000Z-00000001"));
        var entry = cache.EntryPath(key.Value);
        var bytes = File.ReadAllBytes(entry);
        File.WriteAllBytes(entry, bytes[..(bytes.Length / 2)]); // truncated, as by a full disk outside the rename
        var target = Path.Combine(root, "out", "cell.parquet");

        Assert.False(cache.TryRestore(key, target, CellCache.RebindTo("s", "n", cell)));

        Assert.False(File.Exists(target));
        Assert.False(Directory.Exists(Path.GetDirectoryName(target)) &&
            Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(target)!).Any());
        Assert.Contains(entry, Assert.Single(warnings));

        // Storing the cell again repairs the entry.
        cache.Store(key, WriteComputedCell(cell, "20250101T020000Z-00000001"));
        Assert.True(cache.TryRestore(key, target, CellCache.RebindTo("s", "n", cell)));
    }

    [Fact]
    public void AnEntryOfAnotherCellIsAMissWithAWarning()
    {
        var cache = new CellCache(Path.Combine(root, "cache"), warnings.Add);
        var cell = Cell();
        var other = Cell(seed: 3);
        var key = Key(cell);
        // Someone copied another cell's file over this entry.
        Directory.CreateDirectory(Path.GetDirectoryName(cache.EntryPath(key.Value))!);
        File.Copy(WriteComputedCell(other, "20250101T020000Z-00000001"), cache.EntryPath(key.Value));

        Assert.False(cache.TryRestore(key, Path.Combine(root, "cell.parquet"), row => row));

        Assert.Contains("config_hash", Assert.Single(warnings));
        Assert.False(File.Exists(Path.Combine(root, "cell.parquet")));
    }

    [Fact]
    public void StoreRefusesAResultFileOfAnotherKey()
    {
        var cache = new CellCache(Path.Combine(root, "cache"), warnings.Add);
        var cell = Cell();
        var computed = WriteComputedCell(cell, "20250101T020000Z-00000001");

        var error = Assert.Throws<ArgumentException>(() => cache.Store(Key(cell, version: "9.9.9"), computed));

        Assert.Contains("farm_version", error.Message);
        Assert.False(Directory.Exists(Path.Combine(root, "cache")));
    }

    [Fact]
    public void ARebinderMayNotTouchMeasurements()
    {
        var cache = new CellCache(Path.Combine(root, "cache"), warnings.Add);
        var cell = Cell();
        var key = Key(cell);
        cache.Store(key, WriteComputedCell(cell, "20250101T020000Z-00000001"));
        var target = Path.Combine(root, "cell.parquet");

        var error = Assert.Throws<ArgumentException>(() =>
            cache.TryRestore(key, target, row => row with { ImageAuroc = 0.5 }));

        Assert.Contains("image_auroc", error.Message);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public async Task ConcurrentStoresOfOneKeyLeaveOneWholeEntry()
    {
        var cell = Cell();
        var key = Key(cell);
        var computed = WriteComputedCell(cell, "20250101T020000Z-00000001");
        var cacheRoot = Path.Combine(root, "cache");
        var target = Path.Combine(root, "restored", "cell.parquet");

        // Two "silos" (two cache objects on one folder) store while a third restores.
        var stores = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var silo = new CellCache(cacheRoot, warnings.Add);
            for (var i = 0; i < 20; i++)
            {
                silo.Store(key, computed);
            }
        }));
        var restores = Task.Run(() =>
        {
            var silo = new CellCache(cacheRoot, message => { lock (warnings) { warnings.Add(message); } });
            for (var i = 0; i < 40; i++)
            {
                silo.TryRestore(key, target, row => row);
            }
        });
        await Task.WhenAll([.. stores, restores]);

        Assert.Empty(warnings);
        Assert.Equal(File.ReadAllBytes(computed), File.ReadAllBytes(new CellCache(cacheRoot).EntryPath(key.Value)));
        Assert.DoesNotContain(Directory.EnumerateFiles(cacheRoot, "*", SearchOption.AllDirectories), AtomicFile.IsTemporary);
    }

    /// <summary>A cell's result file as the pipeline writes it: two threshold rows with distinct, awkward doubles.</summary>
    private string WriteComputedCell(CellSpec cell, string sweepId, string device = "cpu")
    {
        var layout = new ResultsLayout(root, cell.SweepName, sweepId);
        var rows = cell.Thresholds.Select((method, i) => ResultRows.Distinct(i) with
        {
            Device = device,
            SweepId = sweepId,
            SweepName = cell.SweepName,
            CellId = cell.CellId,
            ConfigHash = cell.ConfigHash,
            Dataset = cell.DatasetName,
            DatasetHash = DatasetHash,
            WeightsFile = cell.Model.WeightsPath is { } w ? Path.GetFileName(w) : null,
            WeightsSha256 = cell.Model.WeightsPath is { } path ? FileHashes.Sha256(path) : null,
            Seed = cell.Seed,
            ThresholdMethod = method,
            ImageAuroc = 1.0 / 3.0 + i,
            PixelAupro = Math.BitIncrement(0.1),
            FarmVersion = Version,
        }).ToList();
        var path = layout.CellFile(cell.CellId);
        ResultsParquet.WriteCellFile(path, rows);
        return path;
    }
}
