using System.Globalization;
using Farm.Engine.Results;
using Farm.Engine.Tests.Results;

namespace Farm.Client.Tests;

/// <summary>
/// `farm query` as a process: DuckDB over the result files gives what LINQ over <see cref="ResultsParquet.ReadAll"/>
/// gives, as CSV that parses back and as an aligned table; the cell cache's files are never read; bad input exits 2.
/// </summary>
public sealed class QueryCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("farm-query-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>Two sweeps' cell files in nested folders, NaN metrics included, and a cache entry that must be ignored.</summary>
    private string WriteResults()
    {
        var results = Path.Combine(root, "out");
        var i = 0;
        foreach (var sweep in new[] { "20250101T000000Z-00000001", "20250102T000000Z-00000002" })
        foreach (var model in new[] { "padim", "patchcore", "draem" })
        foreach (var category in new[] { "bottle", "screw" })
        foreach (var seed in new[] { 0, 1 })
        {
            var auroc = 0.5 + (0.037 * i % 0.5);
            var row = ResultRows.Make(model, "mvtec", category, seed, "f1max", auroc, $"h{i}") with
            {
                SweepId = sweep,
                ImagePg2 = i % 5 == 0 ? double.NaN : auroc / 3,
            };
            i++;
            ResultsParquet.WriteCellFile(Path.Combine(results, "quick", sweep, category, $"{model}-{seed}.parquet"), [row, row with { ThresholdMethod = "iou" }]);
        }
        // A cache entry holds a cell file byte for byte, under another extension: counting it would double rows.
        var cache = Path.Combine(results, CellCache.DefaultFolderName, "ab");
        Directory.CreateDirectory(cache);
        File.Copy(Directory.GetFiles(results, "*.parquet", SearchOption.AllDirectories)[0], Path.Combine(cache, "abcd" + CellCache.EntryExtension));
        return results;
    }

    [Fact]
    public async Task CsvOutputIsWhatLinqGivesOverTheSameFiles()
    {
        var results = WriteResults();
        var rows = ResultsParquet.ReadAll(results);

        var run = await FarmProcess.RunAsync(root, "query", results,
            "SELECT model, count(*) AS n, avg(image_auroc) AS auroc, avg(image_pg2) AS pg2 FROM results " +
            "WHERE threshold_method = 'f1max' GROUP BY model ORDER BY model", "--format", "csv");

        Assert.True(run.ExitCode == 0, run.ToString());
        var records = Rfc4180.Parse(run.Stdout);
        Assert.Equal(["model", "n", "auroc", "pg2"], records[0]);
        var expected = rows.Where(r => r.ThresholdMethod == "f1max").GroupBy(r => r.Model).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        Assert.Equal(expected.Select(g => g.Key), records.Skip(1).Select(r => r[0]));
        foreach (var (group, record) in expected.Zip(records.Skip(1)))
        {
            Assert.Equal(group.Count(), int.Parse(record[1], CultureInfo.InvariantCulture));
            Assert.Equal(group.Average(r => r.ImageAuroc), double.Parse(record[2], CultureInfo.InvariantCulture), 12);
            // SQL's avg skips nulls: the NaN (undefined) values stored as null.
            Assert.Equal(group.Select(r => r.ImagePg2).Where(v => !double.IsNaN(v)).Average(), double.Parse(record[3], CultureInfo.InvariantCulture), 12);
        }
        Assert.Equal(8, expected[0].Count()); // 2 sweeps × 2 categories × 2 seeds: the cache copy is not read
    }

    [Fact]
    public async Task EveryRowIsInTheViewAndTheTableIsAligned()
    {
        var results = WriteResults();
        var rows = ResultsParquet.ReadAll(results);

        var count = await FarmProcess.RunAsync(root, "query", results, "SELECT count(*) AS rows FROM results", "--format", "csv");
        var table = await FarmProcess.RunAsync(root, "query", results,
            "SELECT model, category, round(avg(image_auroc), 4) AS auroc FROM results GROUP BY ALL ORDER BY ALL");

        Assert.True(count.ExitCode == 0, count.ToString());
        Assert.Equal($"rows\r\n{rows.Count.ToString(CultureInfo.InvariantCulture)}\r\n", count.Stdout);
        Assert.True(table.ExitCode == 0, table.ToString());
        var lines = table.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        Assert.Equal("(6 rows)", lines[^1]);
        var body = lines[..^1];
        Assert.Single(body.Select(l => l.Length).Distinct()); // every line of the box is as wide as the others
        var expected = rows.GroupBy(r => (r.Model, r.Category)).OrderBy(g => g.Key.Model, StringComparer.Ordinal).ThenBy(g => g.Key.Category, StringComparer.Ordinal)
            .Select(g => (g.Key.Model, g.Key.Category, Math.Round(g.Average(r => r.ImageAuroc), 4, MidpointRounding.AwayFromZero)));
        var shown = body.Where(l => l.StartsWith("│ ", StringComparison.Ordinal) && !l.Contains("model", StringComparison.Ordinal))
            .Select(l => l.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(c => (c[0], c[1], double.Parse(c[2], CultureInfo.InvariantCulture)));
        Assert.Equal(expected, shown);
    }

    [Fact]
    public async Task BadSqlAndMissingOrEmptyFoldersExitTwoWithOneLine()
    {
        var results = WriteResults();
        var missing = Path.Combine(root, "nowhere");
        var empty = Directory.CreateDirectory(Path.Combine(root, "empty")).FullName;
        File.WriteAllText(Path.Combine(empty, "notes.txt"), "not a result");

        var badSql = await FarmProcess.RunAsync(root, "query", results, "SELEC model FROM results");
        var badColumn = await FarmProcess.RunAsync(root, "query", results, "SELECT colour FROM results");
        var noFolder = await FarmProcess.RunAsync(root, "query", missing, "SELECT 1");
        var noFiles = await FarmProcess.RunAsync(root, "query", empty, "SELECT 1");

        Assert.Equal(2, badSql.ExitCode);
        Assert.StartsWith("error: SQL error: Parser Error: syntax error at or near \"SELEC\"", badSql.Stderr.Trim());
        Assert.Equal(2, badColumn.ExitCode);
        Assert.StartsWith("error: SQL error: Binder Error:", badColumn.Stderr.Trim());
        Assert.Contains("colour", badColumn.Stderr);
        Assert.Single(badColumn.Stderr.Trim().Split('\n'));
        Assert.Equal(2, noFolder.ExitCode);
        Assert.Equal($"error: {missing}: results folder not found", noFolder.Stderr.Trim());
        Assert.Equal(2, noFiles.ExitCode);
        Assert.Equal($"error: {empty}: no result files (*.parquet) found", noFiles.Stderr.Trim());
    }
}
