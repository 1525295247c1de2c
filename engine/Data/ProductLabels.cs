using System.Text;
using Farm.Engine.IO;

namespace Farm.Engine.Data;

/// <summary>The product-agnostic defect categories of the Amazon benchmark.</summary>
public enum DefectCategory
{
    /// <summary>Distorted or missing parts, holes, bends.</summary>
    Structural,

    /// <summary>Scratches, dents, rust: small regions of the surface.</summary>
    Surface,

    /// <summary>Foreign material: glue, dust, dirt.</summary>
    Contamination,

    /// <summary>Several defects of different kinds, several connected components.</summary>
    Combined,
}

/// <summary>
/// The label of one anomalous image: <paramref name="Path"/> is the image's <see cref="ImageSample.RelativePath"/>;
/// <paramref name="Background"/> is true for an object on a backdrop, false for a close-up texture.
/// </summary>
public sealed record ProductLabel(string Path, DefectCategory Category, bool Background);

/// <summary>Reads and writes the labels CSV: header <c>path,category,background</c>.</summary>
public static class ProductLabels
{
    public const string Header = "path,category,background";

    private static readonly string CategoryChoices = string.Join('|', Enum.GetValues<DefectCategory>().Select(ToCsv));

    /// <summary>The CSV spelling of a category: "structural", "surface", "contamination" or "combined".</summary>
    public static string ToCsv(DefectCategory category) => category switch
    {
        DefectCategory.Structural => "structural",
        DefectCategory.Surface => "surface",
        DefectCategory.Contamination => "contamination",
        DefectCategory.Combined => "combined",
        _ => throw new ArgumentOutOfRangeException(nameof(category), category, null),
    };

    /// <summary>Reads a labels CSV. Errors name the file, the 1-based line and the field. Paths must be unique.</summary>
    public static IReadOnlyList<ProductLabel> Read(string csvPath)
    {
        if (!File.Exists(csvPath))
        {
            throw new FarmException("labels file not found", csvPath);
        }

        var lines = File.ReadAllLines(csvPath);
        if (lines.Length == 0 || !string.Equals(StripByteOrderMark(lines[0]).Trim(), Header, StringComparison.OrdinalIgnoreCase))
        {
            throw new FarmException($"line 1: expected the header '{Header}'", csvPath);
        }

        var labels = new List<ProductLabel>();
        var lineOfPath = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var index = 1; index < lines.Length; index++)
        {
            if (string.IsNullOrWhiteSpace(lines[index]))
            {
                continue;
            }

            var location = $"{csvPath}:{index + 1}";
            var fields = CsvLine.Split(lines[index], location);
            if (fields.Count != 3)
            {
                throw new FarmException($"expected 3 fields (path,category,background), found {fields.Count}", location);
            }

            var path = fields[0].Trim().Replace('\\', '/');
            if (path.Length == 0)
            {
                throw new FarmException("empty path", location, "path");
            }
            if (lineOfPath.TryGetValue(path, out var firstLine))
            {
                throw new FarmException($"'{path}' is already labelled on line {firstLine}", location, "path");
            }
            lineOfPath[path] = index + 1;

            var category = ParseCategory(fields[1].Trim())
                ?? throw new FarmException($"unknown category '{fields[1].Trim()}' (expected {CategoryChoices})", location, "category");
            var background = fields[2].Trim().ToLowerInvariant() switch
            {
                "true" => true,
                "false" => false,
                var other => throw new FarmException($"'{other}' is not true or false", location, "background"),
            };
            labels.Add(new ProductLabel(path, category, background));
        }
        return labels;
    }

    /// <summary>Writes a labels CSV (LF line ends, UTF-8 without BOM) in the given order, atomically.</summary>
    public static void Write(string csvPath, IEnumerable<ProductLabel> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var text = new StringBuilder(Header).Append('\n');
        foreach (var label in labels)
        {
            text.Append(QuoteIfNeeded(label.Path)).Append(',')
                .Append(ToCsv(label.Category)).Append(',')
                .Append(label.Background ? "true" : "false").Append('\n');
        }

        var fullPath = Path.GetFullPath(csvPath);
        var folder = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, text.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temporary, fullPath, overwrite: true);
    }

    private static DefectCategory? ParseCategory(string text) =>
        Enum.GetValues<DefectCategory>().Select(category => (DefectCategory?)category)
            .FirstOrDefault(category => string.Equals(ToCsv(category!.Value), text, StringComparison.OrdinalIgnoreCase));

    private static string StripByteOrderMark(string line) => line.TrimStart('\uFEFF');

    private static string QuoteIfNeeded(string value)
    {
        if (value.IndexOfAny(['\n', '\r']) >= 0)
        {
            throw new ArgumentException($"A label path cannot hold a line break: '{value}'.", nameof(value));
        }
        return value.IndexOfAny([',', '"']) < 0 ? value : $"\"{value.Replace("\"", "\"\"")}\"";
    }
}
