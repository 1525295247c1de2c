using System.Globalization;
using DuckDB.NET.Data;
using Farm.Engine.Results;
using Farm.Engine.Tests.Sweeps;

namespace Farm.Engine.Tests.Results;

/// <summary>
/// The robustness-table queries documented in docs/results-schema.md, run by DuckDB over Parquet results of every
/// condition, must give what the rows say (computed here with LINQ): one query per table of Baitieva et al.
/// </summary>
public class PaperTableQueryTests
{
    private static readonly string[] Models = ["padim", "trained"];

    /// <summary>Rows of two datasets, two run seeds and every condition; iou and "surface" rows carry decoys.</summary>
    private static List<ResultRow> Rows()
    {
        var conditions = new List<(string Experiment, string? Parameter, int? Seed, int Size)> { ("none", null, null, 256) };
        conditions.AddRange([("resolution", "128", null, 128), ("resolution", "512", null, 512)]);
        conditions.AddRange(Enumerable.Range(0, 3).Select(s => ("drift", (string?)null, (int?)s, 256)));
        conditions.AddRange(from rate in new[] { "0.04", "0.16" } from s in new[] { 0, 1 } select ("noisy-labels", (string?)rate, (int?)s, 256));
        conditions.AddRange(from strategy in new[] { "fixed-epochs", "early-stopping" } from s in new[] { 0, 1 }
                            select ("validation-strategy", (string?)strategy, (int?)s, 256));
        var rows = new List<ResultRow>();
        var i = 0;
        foreach (var dataset in new[] { "a", "b" })
        foreach (var (experiment, parameter, conditionSeed, size) in conditions)
        foreach (var model in Models)
        foreach (var seed in new[] { 0, 1 })
        {
            var value = 0.5 + (0.37 * i++ % 0.5);
            var row = ResultRows.Make(model, dataset, "cat", seed, "f1max", value, $"h{i}") with
            {
                Experiment = experiment,
                ConditionParameter = parameter,
                ConditionSeed = conditionSeed,
                ImageSize = size,
                PixelF1Max = value / 2,
                PixelAupro = value / 3,
                ImagePg2 = 1 - value,
                ImageF1Max = value / 4,
                Epochs = model == "trained" && experiment == "validation-strategy"
                    ? (parameter == "early-stopping" ? 10 + seed + (conditionSeed ?? 0) : 40)
                    : null,
            };
            rows.Add(row);
            rows.Add(row with { ThresholdMethod = "iou", ImageAuroc = 0.01, PixelAupro = 0.01 });
            rows.Add(row with { DefectCategory = "surface", ImageAuroc = 0.02, PixelAupro = 0.02 });
        }
        return rows;
    }

    private static string Pct(IEnumerable<double> values) =>
        Math.Round(100 * values.Average(), 1, MidpointRounding.AwayFromZero).ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void EachDocumentedTableQueryRebuildsItsTable()
    {
        using var temp = new TempFolder();
        var rows = Rows();
        foreach (var cell in rows.GroupBy(r => r.ConfigHash))
        {
            ResultsParquet.WriteCellFile(temp.Combine("sweep", cell.Key + ".parquet"), [.. cell]);
        }
        var kept = rows.Where(r => r.DefectCategory == "all" && r.ThresholdMethod == "f1max").ToList();
        var queries = DocumentedQueries();
        Assert.Equal(["Table 5", "Table 6", "Table 7", "Table 9"], queries.Keys);

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, $"CREATE VIEW results AS SELECT * FROM read_parquet('{temp.Combine("**", "*.parquet").Replace("'", "''")}')");

        var inputSize = from r in kept where r.Experiment is "none" or "resolution"
                        group r by (r.Model, r.ImageSize) into g orderby g.Key.Model, g.Key.ImageSize
                        select $"{g.Key.Model}|{g.Key.ImageSize}|{Pct(g.Select(r => r.ImageAuroc))}|{Pct(g.Select(r => r.PixelF1Max))}|{Pct(g.Select(r => r.ImagePg2))}";
        Assert.Equal(inputSize, Query(connection, queries["Table 5"]));

        var drift = from r in kept where r.Experiment is "none" or "drift"
                    group r by (r.Model, r.Experiment) into g orderby g.Key.Model, g.Key.Experiment descending
                    select $"{g.Key.Model}|{g.Key.Experiment}|{Pct(g.Select(r => r.ImageAuroc))}|{Pct(g.Select(r => r.PixelAupro))}|{g.Count()}";
        Assert.Equal(drift, Query(connection, queries["Table 6"]));
        // Drift pools 3 drift seeds × 2 run seeds × 2 datasets per model.
        Assert.EndsWith("|12", Query(connection, queries["Table 6"])[1]);

        var noisy = from r in kept where r.Experiment is "none" or "noisy-labels"
                    let rate = double.Parse(r.ConditionParameter ?? "0", CultureInfo.InvariantCulture)
                    group r by (r.Model, rate) into g orderby g.Key.Model, g.Key.rate
                    select $"{g.Key.Model}|{g.Key.rate.ToString(CultureInfo.InvariantCulture)}|{Pct(g.Select(r => r.ImageAuroc))}|{Pct(g.Select(r => r.PixelAupro))}";
        Assert.Equal(noisy, Query(connection, queries["Table 7"]));

        var strategy = from r in kept where r.Experiment == "validation-strategy"
                       group r by (r.Model, r.ConditionParameter) into g orderby g.Key.Model, g.Key.ConditionParameter descending
                       let epochs = g.Where(r => r.Epochs is not null).Select(r => (double)r.Epochs!.Value).ToList()
                       select $"{g.Key.Model}|{g.Key.ConditionParameter}|{Pct(g.Select(r => r.ImageAuroc))}|{Pct(g.Select(r => r.ImageF1Max))}|" +
                              (epochs.Count == 0 ? "" : Math.Round(epochs.Average(), MidpointRounding.AwayFromZero).ToString(CultureInfo.InvariantCulture));
        Assert.Equal(strategy, Query(connection, queries["Table 9"]));
        Assert.Contains("trained|early-stopping|", string.Join("\n", Query(connection, queries["Table 9"])));
    }

    /// <summary>The statements of the "papers' robustness tables" SQL block, keyed by their "-- Table N" comment.</summary>
    private static Dictionary<string, string> DocumentedQueries()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(folder!.FullName, "Farm.sln")))
        {
            folder = folder.Parent;
        }
        var doc = File.ReadAllText(Path.Combine(folder.FullName, "docs", "results-schema.md"));
        var section = doc[doc.IndexOf("### The papers' robustness tables", StringComparison.Ordinal)..];
        var start = section.IndexOf("```sql", StringComparison.Ordinal) + "```sql".Length;
        var block = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];
        return block.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(statement => statement.StartsWith("-- Table ", StringComparison.Ordinal))
            .ToDictionary(statement => statement[3..statement.IndexOf(' ', "-- Table ".Length)], statement => statement);
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Each result row as its values joined by '|', numbers in invariant culture, NULL as empty.</summary>
    private static List<string> Query(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i =>
                reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        }
        return rows;
    }
}
