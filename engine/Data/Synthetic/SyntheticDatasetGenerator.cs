using Farm.Engine.Imaging;
using Farm.Engine.Randomness;

namespace Farm.Engine.Data.Synthetic;

/// <summary>Options of <see cref="SyntheticDatasetGenerator.Generate"/>; <see cref="Size"/> is the image side in pixels.</summary>
public sealed record SyntheticDatasetOptions
{
    public int Seed { get; init; }

    public int Size { get; init; } = 128;

    public int TrainCount { get; init; } = 24;

    public int TestGoodCount { get; init; } = 8;

    public int TestPerDefectType { get; init; } = 3;

    /// <summary>The products to generate: "widget" (object on a backdrop) and/or "fabric" (close-up texture).</summary>
    public IReadOnlyList<string> Categories { get; init; } = SyntheticDatasetGenerator.ProductNames;
}

/// <summary>
/// Writes a small MVTec-layout dataset of procedurally drawn products with exact defect masks, plus <c>labels.csv</c>
/// (<see cref="ProductLabels"/>) for every anomalous image. The same options give byte-identical files.
/// </summary>
public static class SyntheticDatasetGenerator
{
    public const string LabelsFileName = "labels.csv";

    /// <summary>Marks a folder as written by this generator, so that a second run may replace it.</summary>
    public const string MarkerFileName = ".farm-synthetic";

    public const int MinSize = 32;
    public const int MaxSize = 2048;

    public static IReadOnlyList<string> ProductNames { get; } = SyntheticProduct.All.Select(product => product.Name).ToList();

    public static void Generate(string outDir, SyntheticDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var products = Validate(options);
        PrepareFolder(outDir, products);

        var jobs = products.SelectMany(product => PlanImages(product, options)).ToList();
        Parallel.ForEach(jobs, job =>
        {
            var (image, mask) = job.Product.Render(options.Size, job.Seed, job.DefectType);
            ImageIo.WritePng(Path.Combine(outDir, job.RelativePath), image);
            if (job.MaskRelativePath is not null)
            {
                ImageIo.WriteMaskPng(Path.Combine(outDir, job.MaskRelativePath), mask);
            }
        });

        var labels = jobs
            .Where(job => job.DefectType is not null)
            .Select(job => new ProductLabel(job.RelativePath,
                job.Product.DefectTypes.Single(type => type.Name == job.DefectType).Category, job.Product.OnBackground))
            .OrderBy(label => label.Path, StringComparer.Ordinal);
        ProductLabels.Write(Path.Combine(outDir, LabelsFileName), labels);
    }

    private sealed record ImageJob(SyntheticProduct Product, string RelativePath, string? MaskRelativePath, string? DefectType, ulong Seed);

    private static IEnumerable<ImageJob> PlanImages(SyntheticProduct product, SyntheticDatasetOptions options)
    {
        var digits = Math.Max(3, Math.Max(options.TrainCount, Math.Max(options.TestGoodCount, options.TestPerDefectType)).ToString().Length);
        string FileStem(int index) => index.ToString().PadLeft(digits, '0');

        // Each image's seed hashes its path, so changing one count does not change the other images.
        ImageJob Job(string relativePath, string? maskRelativePath, string? defectType) =>
            new(product, relativePath, maskRelativePath, defectType,
                SplitMix64.Mix((ulong)(uint)options.Seed ^ SplitMix64.Hash(relativePath)));

        for (var index = 0; index < options.TrainCount; index++)
        {
            yield return Job($"{product.Name}/train/good/{FileStem(index)}.png", null, null);
        }
        for (var index = 0; index < options.TestGoodCount; index++)
        {
            yield return Job($"{product.Name}/test/good/{FileStem(index)}.png", null, null);
        }
        foreach (var defect in product.DefectTypes)
        {
            for (var index = 0; index < options.TestPerDefectType; index++)
            {
                yield return Job($"{product.Name}/test/{defect.Name}/{FileStem(index)}.png",
                    $"{product.Name}/ground_truth/{defect.Name}/{FileStem(index)}_mask.png", defect.Name);
            }
        }
    }

    private static List<SyntheticProduct> Validate(SyntheticDatasetOptions options)
    {
        if (options.Size is < MinSize or > MaxSize)
        {
            throw new FarmException($"must be between {MinSize} and {MaxSize} pixels, got {options.Size}", field: "size");
        }
        RequirePositive(options.TrainCount, "train-count");
        RequirePositive(options.TestGoodCount, "test-good-count");
        RequirePositive(options.TestPerDefectType, "test-per-defect-type");
        if (options.Categories is null || options.Categories.Count == 0)
        {
            throw new FarmException($"name at least one of {string.Join(", ", ProductNames)}", field: "categories");
        }

        var products = new List<SyntheticProduct>();
        foreach (var name in options.Categories)
        {
            var product = SyntheticProduct.All.FirstOrDefault(candidate => candidate.Name == name)
                ?? throw new FarmException($"unknown synthetic product '{name}' (known: {string.Join(", ", ProductNames)})", field: "categories");
            if (products.Contains(product))
            {
                throw new FarmException($"'{name}' is named twice", field: "categories");
            }
            products.Add(product);
        }
        return products;
    }

    private static void RequirePositive(int count, string field)
    {
        if (count < 1)
        {
            throw new FarmException($"must be at least 1, got {count}", field: field);
        }
    }

    // Refuse to write into a folder holding anything else; a previous synthetic output is replaced whole, so that no
    // image of a run with larger counts is left behind.
    private static void PrepareFolder(string outDir, List<SyntheticProduct> products)
    {
        var marker = Path.Combine(outDir, MarkerFileName);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            if (!File.Exists(marker))
            {
                throw new FarmException("output folder is not empty and was not written by the synthetic generator", outDir);
            }
            foreach (var product in SyntheticProduct.All)
            {
                var productFolder = Path.Combine(outDir, product.Name);
                if (Directory.Exists(productFolder))
                {
                    Directory.Delete(productFolder, recursive: true);
                }
            }
            File.Delete(Path.Combine(outDir, LabelsFileName));
        }

        Directory.CreateDirectory(outDir);
        File.WriteAllText(marker, $"Written by farm data synth; products: {string.Join(", ", products.Select(product => product.Name))}\n");
    }
}
