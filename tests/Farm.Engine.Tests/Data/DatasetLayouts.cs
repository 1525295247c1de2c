using System.Globalization;
using Farm.Engine.Data.Formats;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Imaging;

namespace Farm.Engine.Tests.Data;

/// <summary>Tiny dataset folders in the layouts Farm's formats read, for tests that need one on disk.</summary>
internal static class DatasetLayouts
{
    public const string LogicalDefect = "logical_anomalies";
    public const string StructuralDefect = "structural_anomalies";

    /// <summary>
    /// An MVTec LOCO category of 8×8 images: <paramref name="perDefect"/> images of each of LOCO's two defect types,
    /// each with a mask folder of two region masks.
    /// </summary>
    public static void WriteLoco(string root, string category, int train, int validation, int testGood, int perDefect)
    {
        var folder = Path.Combine(root, category);
        WriteImages(Path.Combine(folder, "train", "good"), train);
        WriteImages(Path.Combine(folder, "validation", "good"), validation);
        WriteImages(Path.Combine(folder, "test", "good"), testGood);
        foreach (var defect in (string[])[LogicalDefect, StructuralDefect])
        {
            WriteImages(Path.Combine(folder, "test", defect), perDefect);
            for (var index = 0; index < perDefect; index++)
            {
                var masks = Path.Combine(folder, "ground_truth", defect, Stem(index));
                WriteMask(Path.Combine(masks, "000.png"), (x, y) => x == 0);
                WriteMask(Path.Combine(masks, "001.png"), (x, y) => y == 0);
            }
        }
    }

    /// <summary>
    /// A tiny dataset in <paramref name="format"/>'s layout, made from the synthetic generator's MVTec layout (32-px
    /// images of its two products): renamed masks for BTAD, mask folders and a <c>validation/good</c> for MVTec LOCO,
    /// the split CSV for VisA. Returns the categories it holds.
    /// </summary>
    public static IReadOnlyList<string> Generate(string format, string root)
    {
        SyntheticDatasetGenerator.Generate(root, new SyntheticDatasetOptions
        {
            Seed = 1,
            Size = SyntheticDatasetGenerator.MinSize,
            TrainCount = 5,
            TestGoodCount = 3,
            TestPerDefectType = 2,
        });
        var categories = SyntheticDatasetGenerator.ProductNames;
        switch (format)
        {
            case "mvtec" or "mpdd" or "synthetic":
                break;
            case "btad":
                foreach (var mask in Directory.GetFiles(root, "*_mask.png", SearchOption.AllDirectories))
                {
                    File.Move(mask, mask.Replace("_mask.png", ".png", StringComparison.Ordinal));
                }
                break;
            case "mvtec_loco":
                foreach (var mask in Directory.GetFiles(root, "*_mask.png", SearchOption.AllDirectories))
                {
                    var regionFolder = mask[..^"_mask.png".Length];
                    Directory.CreateDirectory(regionFolder);
                    File.Move(mask, Path.Combine(regionFolder, "000.png"));
                }
                foreach (var category in categories)
                {
                    // LOCO's own validation images: two of the training images move there.
                    var validation = Directory.CreateDirectory(Path.Combine(root, category, "validation", "good")).FullName;
                    foreach (var image in Directory.GetFiles(Path.Combine(root, category, "train", "good")).Order(StringComparer.Ordinal).Take(2))
                    {
                        File.Move(image, Path.Combine(validation, Path.GetFileName(image)));
                    }
                }
                break;
            case "visa":
                WriteVisaSplit(root);
                break;
            default:
                throw new ArgumentException($"no test layout for format '{format}'", nameof(format));
        }

        return categories;
    }

    public static void WriteImage(string path) =>
        ImageIo.WritePng(path, new RgbImage(8, 8, Enumerable.Repeat((byte)120, 8 * 8 * 3).ToArray()));

    public static void WriteMask(string path, Func<int, int, bool> anomalous) =>
        ImageIo.WriteMaskPng(path, new BinaryMask(8, 8, [.. Enumerable.Range(0, 64).Select(i => anomalous(i % 8, i / 8))]));

    private static void WriteImages(string folder, int count)
    {
        for (var index = 0; index < count; index++)
        {
            WriteImage(Path.Combine(folder, Stem(index) + ".png"));
        }
    }

    private static string Stem(int index) => index.ToString("000", CultureInfo.InvariantCulture);

    /// <summary>VisA's <c>split_csv/1cls.csv</c> listing the MVTec-layout images where they lie.</summary>
    private static void WriteVisaSplit(string root)
    {
        var rows = new List<string> { "object,split,label,image,mask" };
        foreach (var image in Directory.GetFiles(root, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var parts = Path.GetRelativePath(root, image).Split(Path.DirectorySeparatorChar);
            if (parts is not [var category, "train" or "test", var defect, var file])
            {
                continue; // masks
            }
            var relative = string.Join('/', parts);
            var mask = defect == "good" ? "" : $"{category}/ground_truth/{defect}/{Path.GetFileNameWithoutExtension(file)}_mask.png";
            rows.Add($"{category},{parts[1]},{(defect == "good" ? "normal" : "anomaly")},{relative},{mask}");
        }
        var csv = Path.Combine(root, VisaFormat.SplitFile);
        Directory.CreateDirectory(Path.GetDirectoryName(csv)!);
        File.WriteAllLines(csv, rows);
    }
}
