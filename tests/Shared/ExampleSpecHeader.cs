using System.Text.RegularExpressions;
using Farm.Engine.Results;

namespace Farm.Tests.Shared;

/// <summary>
/// What an example spec's header comment (its leading '#' lines) promises: how many cells each category expands to
/// and the <c>farm table</c> commands that rebuild its table. Shared by the engine and grain tests (linked source).
/// </summary>
internal sealed partial record ExampleSpecHeader(string Text, int CellsPerCategory, IReadOnlyList<TableCommandLine> TableCommands)
{
    public static ExampleSpecHeader Read(string yaml, string source)
    {
        var header = string.Join('\n', yaml.Split('\n').TakeWhile(line => line.StartsWith('#')).Select(line => line.TrimStart('#').Trim()));
        var cells = CellsLine().Match(header);
        if (!cells.Success)
        {
            throw new FormatException($"{source}: the header has no 'cells per category: N' line");
        }

        var commands = header.Split('\n').Where(line => line.StartsWith("farm table ", StringComparison.Ordinal))
            .Select(line => TableCommandLine.Parse(line, source)).ToList();
        return new ExampleSpecHeader(header, int.Parse(cells.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), commands);
    }

    [GeneratedRegex(@"(?m)^cells per category: (\d+)\b")]
    private static partial Regex CellsLine();
}

/// <summary>
/// One <c>farm table RESULTS [flags]</c> line, read with the flags and defaults of client/Commands/TableCommand.cs
/// (an unknown flag is an error, as it is for the CLI).
/// </summary>
internal sealed record TableCommandLine(string Line, string ResultsFolder, SummaryTableOptions Options)
{
    public static TableCommandLine Parse(string line, string source)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 3 || words[0] != "farm" || words[1] != "table" || words[2].StartsWith('-'))
        {
            throw new FormatException($"{source}: '{line}' is not 'farm table RESULTS [flags]'");
        }

        var options = new SummaryTableOptions();
        for (var i = 3; i < words.Length; i += 2)
        {
            if (i + 1 >= words.Length)
            {
                throw new FormatException($"{source}: '{line}': flag {words[i]} has no value");
            }
            var value = words[i + 1];
            options = words[i] switch
            {
                "--metric" or "--metrics" => options with { Metrics = value.Split(',') },
                "--rows" => options with { RowColumns = value.Split('/') },
                "--cols" => options with { ColumnColumns = value.Split('/') },
                "--mean-over" => options with { MeanOver = value.Split('/') },
                "--filter" => options with { Filters = [.. options.Filters, TableFilter.Parse(value)] },
                "--mean-col" => options with { MeanColumn = value },
                "--format" => options,
                "--threshold" => options with { ThresholdMethod = value },
                "--defect-category" => options with { DefectCategory = value == "any" ? null : value },
                _ => throw new FormatException($"{source}: '{line}': farm table has no flag {words[i]}"),
            };
        }
        return new TableCommandLine(line, words[2], options);
    }
}
