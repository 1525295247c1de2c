using System.CommandLine;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Farm.Engine;
using Farm.Engine.Results;
using Spectre.Console;

namespace Farm.Client.Commands;

/// <summary>
/// `farm query RESULTS "SQL"`: DuckDB SQL over every result file below a folder, exposed as the view <c>results</c>,
/// printed as an aligned table or as CSV. Exit 2 for a missing folder, a folder without result files, or bad SQL.
/// </summary>
internal static class QueryCommand
{
    public const string ViewName = "results";

    public static Command Create()
    {
        var results = new Argument<DirectoryInfo>("results") { Description = "Folder holding result Parquet files (searched recursively)." };
        var sql = new Argument<string>("sql") { Description = $"A DuckDB query over the view '{ViewName}' (one row per result row), e.g. \"SELECT model, avg(image_auroc) FROM results GROUP BY model\"." };
        var format = new Option<string>("--format") { Description = "Output format.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "csv");
        var command = new Command("query", "Run DuckDB SQL over result files (the view 'results') and print a table or CSV.")
        {
            results, sql, format,
        };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            var (columns, rows) = Run(parse.GetRequiredValue(results).FullName, parse.GetRequiredValue(sql));
            if (parse.GetRequiredValue(format) == "csv")
            {
                Console.Write(ToCsv(columns, rows));
            }
            else
            {
                PrintTable(columns, rows);
            }
            return Task.FromResult(CliErrors.Success);
        }));
        return command;
    }

    /// <summary>
    /// The query's column names and rows, each value as text (invariant culture, shortest round-trip doubles, null as
    /// null). The view lists the same files as <see cref="ResultsParquet.ReadAll"/>: every <c>*.parquet</c> below the
    /// folder, so the cell cache's <c>*.parquet.cache</c> entries and atomic writes' temp files are never read.
    /// </summary>
    public static (IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows) Run(string folder, string sql)
    {
        if (!Directory.Exists(folder))
        {
            throw new FarmException("results folder not found", folder);
        }
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".parquet", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            throw new FarmException("no result files (*.parquet) found", folder);
        }

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using (var view = connection.CreateCommand())
        {
            var list = string.Join(", ", files.Select(f => "'" + f.Replace("'", "''", StringComparison.Ordinal) + "'"));
            view.CommandText = $"CREATE VIEW {ViewName} AS SELECT * FROM read_parquet([{list}], union_by_name = true)";
            Execute(() => view.ExecuteNonQuery(), folder, "cannot read the result files: ");
        }

        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Execute(() =>
        {
            using var reader = command.ExecuteReader();
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            var rows = new List<string?[]>();
            while (reader.Read())
            {
                rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : Text(reader.GetValue(i)))]);
            }
            return ((IReadOnlyList<string>)columns, (IReadOnlyList<string?[]>)rows);
        }, null, "SQL error: ");
    }

    /// <summary>DuckDB's own message for a bad query or file, as a FarmException (exit 2).</summary>
    private static T Execute<T>(Func<T> body, string? file, string prefix)
    {
        try
        {
            return body();
        }
        catch (DuckDBException error)
        {
            throw new FarmException(prefix + error.Message.ReplaceLineEndings(" "), file, inner: error);
        }
    }

    private static string Text(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture) + "+00",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>RFC 4180 (CRLF line ends, fields quoted where needed); NULL is an empty field.</summary>
    public static string ToCsv(IReadOnlyList<string> columns, IReadOnlyList<string?[]> rows)
    {
        var csv = new StringBuilder();
        csv.Append(string.Join(",", columns.Select(TableFormats.CsvField))).Append("\r\n");
        foreach (var row in rows)
        {
            csv.Append(string.Join(",", row.Select(v => TableFormats.CsvField(v ?? "")))).Append("\r\n");
        }
        return csv.ToString();
    }

    /// <summary>An aligned table (numbers right-aligned), wide enough on redirected output that no cell wraps.</summary>
    private static void PrintTable(IReadOnlyList<string> columns, IReadOnlyList<string?[]> rows)
    {
        var table = new Table().Border(TableBorder.Rounded);
        for (var i = 0; i < columns.Count; i++)
        {
            var numeric = rows.Any(r => r[i] is not null) && rows.All(r => r[i] is null || double.TryParse(r[i], NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            var column = new TableColumn(Markup.Escape(columns[i])).NoWrap();
            table.AddColumn(numeric ? column.RightAligned() : column);
        }
        foreach (var row in rows)
        {
            table.AddRow([.. row.Select(v => Markup.Escape(v ?? "NULL"))]);
        }
        if (Console.IsOutputRedirected)
        {
            var natural = columns.Select((name, i) => rows.Select(r => (r[i] ?? "NULL").Length).Append(name.Length).Max() + 3).Sum() + 1;
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, natural);
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"({rows.Count} row{(rows.Count == 1 ? "" : "s")})");
    }
}
