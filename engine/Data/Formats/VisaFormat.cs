using Farm.Engine.IO;

namespace Farm.Engine.Data.Formats;

/// <summary>
/// VisA as downloaded: the split file <c>split_csv/1cls.csv</c> under the root lists every image with the columns
/// <c>object,split,label,image,mask</c> (split <c>train</c>/<c>test</c>, label <c>normal</c>/<c>anomaly</c>, paths
/// relative to the root). VisA has no defect types, so anomalous images get the defect type <c>anomaly</c>.
/// </summary>
internal sealed class VisaFormat : IDatasetFormat
{
    public const string SplitFile = "split_csv/1cls.csv";
    public const string AnomalousDefectType = "anomaly";
    private static readonly string[] Columns = ["object", "split", "label", "image", "mask"];

    public string Name => "visa";

    public IReadOnlyList<string> ListCategories(string root)
    {
        var rows = ReadRows(root, out var csvPath);
        var categories = rows.Select(row => row.Object).Distinct().Order(StringComparer.Ordinal).ToList();
        return categories.Count > 0 ? categories : throw new FarmException("split file lists no images", csvPath);
    }

    public DatasetCategory LoadCategory(string root, string category)
    {
        var rows = ReadRows(root, out var csvPath).Where(row => row.Object == category).ToList();
        if (rows.Count == 0)
        {
            throw new FarmException($"split file lists no images of category '{category}'", csvPath);
        }

        var fullRoot = Path.GetFullPath(root);
        var train = new List<ImageSample>();
        var test = new List<ImageSample>();
        foreach (var row in rows)
        {
            var sample = ToSample(fullRoot, row);
            switch (row.Split)
            {
                case "train" when !sample.IsAnomalous:
                    train.Add(sample);
                    break;
                case "train":
                    throw new FarmException($"line {row.Line}: anomalous image in the training split", csvPath);
                case "test":
                    test.Add(sample);
                    break;
                default:
                    throw new FarmException($"line {row.Line}: split '{row.Split}' is neither train nor test", csvPath);
            }
        }
        if (train.Count == 0 || test.Count == 0)
        {
            throw new FarmException($"category '{category}' needs train and test images (has {train.Count} and {test.Count})", csvPath);
        }

        foreach (var sample in train.Concat(test))
        {
            MvtecDataset.CheckHeaders(sample);
        }
        return new DatasetCategory(fullRoot, category, train, test);
    }

    private static ImageSample ToSample(string fullRoot, Row row)
    {
        var imagePath = RequireFile(fullRoot, row.Image, row.Line, "image");
        var relativePath = MvtecDataset.RelativeTo(fullRoot, imagePath);
        return row.Label switch
        {
            "normal" => new ImageSample(imagePath, relativePath, IsAnomalous: false, MvtecDataset.NormalDefectType, MaskPath: null),
            "anomaly" when row.Mask.Length == 0 => throw new FarmException(
                $"line {row.Line}: anomalous image {row.Image} has no mask", Path.Combine(fullRoot, SplitFile)),
            "anomaly" => new ImageSample(imagePath, relativePath, IsAnomalous: true, AnomalousDefectType,
                RequireFile(fullRoot, row.Mask, row.Line, "mask")),
            _ => throw new FarmException($"line {row.Line}: label '{row.Label}' is neither normal nor anomaly", Path.Combine(fullRoot, SplitFile)),
        };
    }

    private static string RequireFile(string fullRoot, string relative, int line, string what)
    {
        var path = Path.GetFullPath(Path.Combine(fullRoot, relative));
        return File.Exists(path)
            ? path
            : throw new FarmException($"{SplitFile} line {line}: {what} file not found (expected {path})", path);
    }

    private static List<Row> ReadRows(string root, out string csvPath)
    {
        MvtecDataset.RequireFolder(root, "dataset root not found");
        csvPath = Path.Combine(Path.GetFullPath(root), SplitFile);
        if (!File.Exists(csvPath))
        {
            throw new FarmException($"VisA split file not found (expected {csvPath})", csvPath);
        }

        var lines = File.ReadAllLines(csvPath);
        var header = lines.Length > 0 ? CsvLine.Split(lines[0], $"{csvPath}:1").Select(name => name.Trim()).ToList() : [];
        var index = Columns.Select(column => header.IndexOf(column)).ToArray();
        if (index.Contains(-1))
        {
            throw new FarmException($"header must name the columns {string.Join(",", Columns)}", csvPath);
        }

        var rows = new List<Row>();
        for (var number = 1; number < lines.Length; number++)
        {
            if (string.IsNullOrWhiteSpace(lines[number]))
            {
                continue;
            }
            var cells = CsvLine.Split(lines[number], $"{csvPath}:{number + 1}").Select(cell => cell.Trim()).ToArray();
            if (cells.Length != header.Count)
            {
                throw new FarmException($"line {number + 1}: {cells.Length} columns, header has {header.Count}", csvPath);
            }
            rows.Add(new Row(number + 1, cells[index[0]], cells[index[1]], cells[index[2]], cells[index[3]], cells[index[4]]));
        }
        return rows;
    }

    private sealed record Row(int Line, string Object, string Split, string Label, string Image, string Mask);
}
