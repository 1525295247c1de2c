using DuckDB.NET.Data;
using Farm.Engine.Results;
using Farm.Engine.Tests.Sweeps;

namespace Farm.Engine.Tests.Results;

public class ResultsParquetTests
{
    [Fact]
    public void RowsRoundTripWithNaNAsNullAndNullablesAsNull()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("cell.parquet");
        var withNulls = ResultRows.Make() with { Epochs = null, ImageAupr = double.NaN };
        ResultRow[] rows = [ResultRows.Distinct(0), ResultRows.Distinct(1), withNulls];

        ResultsParquet.WriteCellFile(path, rows);
        var read = ResultsParquet.ReadFile(path);

        Assert.Equal(rows, read);
        Assert.True(double.IsNaN(read[0].ImagePb2));
        Assert.Null(read[2].DatasetHash);
        Assert.Null(read[2].ConditionParameter);
        Assert.Null(read[2].ConditionSeed);
        Assert.Null(read[2].WeightsSha256);
        Assert.Null(read[2].Epochs);
        Assert.Equal(DateTimeKind.Utc, read[0].CreatedUtc.Kind);
    }

    [Fact]
    public void WritingLeavesNoTempFileAndRewritingReplaces()
    {
        using var temp = new TempFolder();
        var layout = new ResultsLayout(temp.Path, "quick", "sweep1");
        var path = layout.CellFile("mvtec/bottle/none/padim/seed0");

        ResultsParquet.WriteCellFile(path, [ResultRows.Make(imageAuroc: 0.5), ResultRows.Make(threshold: "iou")]);
        ResultsParquet.WriteCellFile(path, [ResultRows.Make(imageAuroc: 0.75)]);

        Assert.Equal([path], Directory.GetFiles(layout.CellsDirectory));
        var read = Assert.Single(ResultsParquet.ReadAll(temp.Path));
        Assert.Equal(0.75, read.ImageAuroc);
    }

    [Fact]
    public void AFailedWriteKeepsTheOldFileAndLeavesNoTempFile()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("cells", "a.parquet");
        ResultsParquet.WriteCellFile(path, [ResultRows.Make(imageAuroc: 0.5)]);

        // A required column left null fails half-way through the write.
        var broken = ResultRows.Make() with { FarmVersion = null! };
        Assert.ThrowsAny<Exception>(() => ResultsParquet.WriteCellFile(path, [broken]));

        Assert.Equal([path], Directory.GetFiles(temp.Combine("cells")));
        Assert.Equal(0.5, Assert.Single(ResultsParquet.ReadFile(path)).ImageAuroc);
    }

    [Fact]
    public void ReadAllReadsEveryParquetFileBelowTheRootAndIgnoresTempFiles()
    {
        using var temp = new TempFolder();
        var first = new ResultsLayout(temp.Path, "quick", "s1");
        var second = new ResultsLayout(temp.Path, "other", "s2");
        ResultsParquet.WriteCellFile(first.CellFile("d/a/none/padim/seed0"), [ResultRows.Make(category: "a")]);
        ResultsParquet.WriteCellFile(first.CellFile("d/b/none/padim/seed0"), [ResultRows.Make(category: "b")]);
        ResultsParquet.WriteCellFile(second.CellFile("d/c/none/padim/seed0"),
            [ResultRows.Make(category: "c"), ResultRows.Make(category: "c", threshold: "iou")]);
        // What a crashed writer leaves behind: not a Parquet file, and not named *.parquet.
        File.WriteAllText(first.CellFile("d/z/none/padim/seed0") + ".tmp-0123abcd", "partial");

        var rows = ResultsParquet.ReadAll(temp.Path);

        Assert.Equal(["a", "b", "c", "c"], rows.Select(r => r.Category).Order());
    }

    [Fact]
    public void ACorruptResultFileIsAFarmExceptionNamingIt()
    {
        using var temp = new TempFolder();
        var path = temp.Write("x/bad.parquet", "not parquet");
        var ex = Assert.Throws<FarmException>(() => ResultsParquet.ReadAll(temp.Path));
        Assert.Equal(path, ex.File);
    }

    [Fact]
    public void DuckDbReadsTheFilesAsTheyAre()
    {
        using var temp = new TempFolder();
        var layout = new ResultsLayout(temp.Path, "quick", "s1");
        ResultsParquet.WriteCellFile(layout.CellFile("d/a/none/padim/seed0"),
            [ResultRows.Make(imageAuroc: 0.5), ResultRows.Make(threshold: "iou", imageAuroc: double.NaN)]);
        ResultsParquet.WriteCellFile(layout.CellFile("d/b/none/padim/seed0"),
            [ResultRows.Make(category: "b", imageAuroc: 0.75) with { Epochs = 3 }]);
        File.WriteAllText(layout.CellFile("d/z/none/padim/seed0") + ".tmp-0123abcd", "partial");

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        var glob = Path.Combine(temp.Path, "**", "*.parquet").Replace("'", "''");
        command.CommandText = $"""
            SELECT count(*), avg(image_auroc), count(image_auroc), count(*) FILTER (WHERE image_auroc IS NULL),
                   max(epochs), min(created_utc)
            FROM read_parquet('{glob}')
            """;
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());

        Assert.Equal(3L, reader.GetInt64(0));
        Assert.Equal((0.5 + 0.75) / 2, reader.GetDouble(1), 12);
        Assert.Equal(2L, reader.GetInt64(2));
        Assert.Equal(1L, Convert.ToInt64(reader.GetValue(3)));
        Assert.Equal(3, Convert.ToInt32(reader.GetValue(4)));
        var created = reader.GetValue(5);
        var createdUtc = created is DateTimeOffset offset ? offset.UtcDateTime : Convert.ToDateTime(created).ToUniversalTime();
        Assert.Equal(ResultRows.Created, createdUtc);
    }

    [Fact]
    public void DuckDbSeesTheDocumentedColumnTypesAndNullability()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("one.parquet").Replace("'", "''");
        ResultsParquet.WriteCellFile(temp.Combine("one.parquet"), [ResultRows.Distinct(0)]);

        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var types = Query(connection, $"DESCRIBE SELECT * FROM read_parquet('{path}')");
        var repetition = Query(connection, $"SELECT name, repetition_type FROM parquet_schema('{path}')")
            .ToDictionary(r => r.Key, r => r.Value);

        var documented = SchemaDocTests.DocumentedColumns();
        Assert.Equal(documented.Select(c => c.Name), types.Select(t => t.Key));
        foreach (var (name, type, nullable) in documented)
        {
            var expectedSql = type switch
            {
                "string" => "VARCHAR",
                "int32" => "INTEGER",
                "double" => "DOUBLE",
                "boolean" => "BOOLEAN",
                "timestamp (µs, UTC)" => "TIMESTAMP WITH TIME ZONE",
                _ => throw new InvalidDataException($"undocumented type '{type}' of {name}"),
            };
            Assert.True(expectedSql == types.Single(t => t.Key == name).Value, $"{name}: {types.Single(t => t.Key == name).Value}");
            Assert.True((nullable ? "OPTIONAL" : "REQUIRED") == repetition[name], $"{name}: {repetition[name]}");
        }
    }

    private static List<KeyValuePair<string, string>> Query(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<KeyValuePair<string, string>>();
        while (reader.Read())
        {
            rows.Add(new(reader.GetString(0), reader.IsDBNull(1) ? "" : reader.GetString(1)));
        }
        return rows;
    }

    [Fact]
    public void WritingNothingIsRefused()
    {
        using var temp = new TempFolder();
        Assert.Throws<ArgumentException>(() => ResultsParquet.WriteCellFile(temp.Combine("a.parquet"), []));
        Assert.Throws<ArgumentException>(() => ResultsParquet.WriteCellFile(temp.Combine("a.pq"), [ResultRows.Make()]));
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void GetReadsColumnsByName()
    {
        var row = ResultRows.Distinct(3);
        Assert.Equal("padim", ResultColumns.Get(row, "model"));
        Assert.Equal(131, ResultColumns.Get(row, "image_size"));
        Assert.Equal(double.NaN, ResultColumns.Get(row, "image_pb2"));
        Assert.Equal(0.01 + 3, ResultColumns.Get(row, "image_auroc"));
        Assert.Throws<ArgumentException>(() => ResultColumns.Get(row, "auroc"));
    }
}
