using Farm.Engine.Results;

namespace Farm.Engine.Tests.Results;

public class SchemaDocTests
{
    /// <summary>The column table of docs/results-schema.md: rows "| `name` | type | yes/no | meaning |".</summary>
    internal static IReadOnlyList<(string Name, string Type, bool Nullable)> DocumentedColumns()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Farm.sln")))
        {
            folder = folder.Parent;
        }
        Assert.NotNull(folder);
        return File.ReadAllLines(Path.Combine(folder.FullName, "docs", "results-schema.md"))
            .Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries))
            .Select(cells => (cells[1].Trim('`'), cells[2], cells[3] switch
            {
                "yes" => true,
                "no" => false,
                var other => throw new InvalidDataException($"'Null?' of {cells[1]} is '{other}'"),
            }))
            .ToList();
    }

    [Fact]
    public void TheSchemaDocumentDescribesEveryColumnInFileOrder()
    {
        Assert.Equal(ResultColumns.Names, DocumentedColumns().Select(c => c.Name));
    }
}
