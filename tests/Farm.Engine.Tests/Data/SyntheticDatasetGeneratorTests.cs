using Farm.Engine.Data;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Imaging;

namespace Farm.Engine.Tests.Data;

public sealed class SyntheticDatasetGeneratorTests(GeneratedDatasetFixture dataset) : IClassFixture<GeneratedDatasetFixture>
{
    private static readonly SyntheticDatasetOptions SmallOptions = new() { Size = 48, TrainCount = 3, TestGoodCount = 1, TestPerDefectType = 2 };

    [Fact]
    public void SameSeedGivesByteIdenticalFiles()
    {
        using var folder = new DataTestFolder();
        SyntheticDatasetGenerator.Generate(folder.Combine("a"), SmallOptions with { Seed = 3 });
        SyntheticDatasetGenerator.Generate(folder.Combine("b"), SmallOptions with { Seed = 3 });

        var first = ReadTree(folder.Combine("a"));
        var second = ReadTree(folder.Combine("b"));

        Assert.Equal(first.Keys, second.Keys);
        Assert.All(first, file => Assert.Equal(file.Value, second[file.Key]));
    }

    [Fact]
    public void DifferentSeedGivesDifferentImages()
    {
        using var folder = new DataTestFolder();
        SyntheticDatasetGenerator.Generate(folder.Combine("a"), SmallOptions with { Seed = 3 });
        SyntheticDatasetGenerator.Generate(folder.Combine("b"), SmallOptions with { Seed = 4 });

        var first = ReadTree(folder.Combine("a"));
        var second = ReadTree(folder.Combine("b"));

        Assert.Equal(first.Keys, second.Keys);
        var images = first.Keys.Where(path => path.EndsWith(".png", StringComparison.Ordinal) && !path.Contains("ground_truth")).ToList();
        Assert.All(images, path => Assert.NotEqual(first[path], second[path]));
    }

    [Fact]
    public void WritesTheMvtecLayoutWithTheRequestedCounts()
    {
        var options = GeneratedDatasetFixture.Options;
        Assert.Equal(["fabric", "widget"], Directory.GetDirectories(dataset.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var product in SyntheticProduct.All)
        {
            var folder = Path.Combine(dataset.Root, product.Name);
            Assert.Equal(options.TrainCount, Directory.GetFiles(Path.Combine(folder, "train", "good"), "*.png").Length);
            Assert.Equal(options.TestGoodCount, Directory.GetFiles(Path.Combine(folder, "test", "good"), "*.png").Length);
            Assert.True(product.DefectTypes.Count >= 4);
            foreach (var defect in product.DefectTypes)
            {
                var images = Directory.GetFiles(Path.Combine(folder, "test", defect.Name)).Select(Path.GetFileName).Order(StringComparer.Ordinal);
                var masks = Directory.GetFiles(Path.Combine(folder, "ground_truth", defect.Name)).Select(Path.GetFileName).Order(StringComparer.Ordinal);
                Assert.Equal(["000.png", "001.png", "002.png"], images);
                Assert.Equal(["000_mask.png", "001_mask.png", "002_mask.png"], masks);
            }
        }
    }

    [Fact]
    public void EveryDefectMaskIsNonEmptyAndFitsItsImage()
    {
        var anomalous = AllTestSamples().Where(sample => sample.IsAnomalous).ToList();
        Assert.NotEmpty(anomalous);
        foreach (var sample in anomalous)
        {
            var (image, mask) = MvtecDataset.ReadSample(sample);
            Assert.Equal((64, 64), (image.Width, image.Height));
            Assert.Equal((image.Width, image.Height), (mask.Width, mask.Height));
            Assert.True(mask.Pixels.Any(anomalous => anomalous), $"empty mask for {sample.RelativePath}");
            Assert.True(mask.Pixels.Count(anomalous => anomalous) < mask.Pixels.Length / 4, $"implausibly large mask for {sample.RelativePath}");
        }
    }

    [Fact]
    public void CombinedDefectsHaveSeveralConnectedComponents()
    {
        var combined = AllTestSamples().Where(sample => sample.DefectType == SyntheticProduct.CombinedDefect).ToList();
        Assert.Equal(2 * GeneratedDatasetFixture.Options.TestPerDefectType, combined.Count);
        foreach (var sample in combined)
        {
            var mask = ImageIo.ReadMask(sample.MaskPath!);
            Assert.True(Farm.Engine.Metrics.RegionLabeler.Count(mask.Pixels, mask.Width, mask.Height) >= 2, sample.RelativePath);
        }
    }

    [Fact]
    public void LabelsCoverEveryAnomalousImageWithAllCategoriesAndBothBackgrounds()
    {
        var labels = ProductLabels.Read(Path.Combine(dataset.Root, SyntheticDatasetGenerator.LabelsFileName));

        var anomalousPaths = AllTestSamples().Where(sample => sample.IsAnomalous).Select(sample => sample.RelativePath).Order(StringComparer.Ordinal);
        Assert.Equal(anomalousPaths, labels.Select(label => label.Path));
        Assert.Equal(Enum.GetValues<DefectCategory>(), labels.Select(label => label.Category).Distinct().Order());
        Assert.Equal([false, true], labels.Select(label => label.Background).Distinct().Order());
        Assert.All(labels, label => Assert.Equal(label.Path.StartsWith("widget/", StringComparison.Ordinal), label.Background));
        Assert.All(labels.Where(label => label.Path.Contains("/combined/")), label => Assert.Equal(DefectCategory.Combined, label.Category));
    }

    [Fact]
    public void NormalImagesVaryBetweenSamples()
    {
        foreach (var product in SyntheticProduct.All)
        {
            var train = MvtecDataset.LoadCategory(dataset.Root, product.Name).Train.Select(sample => ImageIo.ReadRgb(sample.ImagePath)).ToList();
            for (var index = 1; index < train.Count; index++)
            {
                Assert.True(MeanAbsoluteDifference(train[0].Pixels, train[index].Pixels) > 3, $"{product.Name} train images 0 and {index} are nearly equal");
            }
        }
    }

    [Theory]
    [InlineData("widget")]
    [InlineData("fabric")]
    public void DefectsVisiblyChangeTheMaskedPixelsOfAnOtherwiseEqualImage(string productName)
    {
        var product = SyntheticProduct.All.Single(candidate => candidate.Name == productName);
        foreach (var defect in product.DefectTypes)
        {
            for (var seed = 1UL; seed <= 4; seed++)
            {
                var (normal, emptyMask) = product.Render(96, seed, null);
                var (defective, mask) = product.Render(96, seed, defect.Name);
                Assert.DoesNotContain(true, emptyMask.Pixels);

                var inside = Enumerable.Range(0, mask.Pixels.Length).Where(pixel => mask.Pixels[pixel]).ToList();
                var outsideFar = Enumerable.Range(0, mask.Pixels.Length).Where(pixel => !NearMask(mask, pixel, 3)).ToList();
                var contrast = MeanPixelDifference(normal, defective, inside);
                Assert.True(contrast > 30, $"{productName}/{defect.Name} seed {seed}: defect too faint ({contrast:F1})");
                var changedFar = outsideFar.Count(pixel => PixelDifference(normal, defective, pixel) > 0);
                var changedLimit = productName == "widget" && defect.Name is "broken_edge" or SyntheticProduct.CombinedDefect
                    ? inside.Count // A broken-off piece also moves the part's shadow.
                    : 0;
                Assert.True(changedFar <= changedLimit, $"{productName}/{defect.Name} seed {seed}: {changedFar} pixels changed far from the mask");
            }
        }
    }

    [Fact]
    public void SecondRunReplacesItsOwnEarlierOutput()
    {
        using var folder = new DataTestFolder();
        var root = folder.Combine("synthetic");
        SyntheticDatasetGenerator.Generate(root, SmallOptions with { TrainCount = 4 });

        SyntheticDatasetGenerator.Generate(root, SmallOptions with { Categories = ["fabric"] });

        Assert.False(Directory.Exists(Path.Combine(root, "widget")));
        Assert.Equal(3, Directory.GetFiles(Path.Combine(root, "fabric", "train", "good")).Length);
        Assert.All(ProductLabels.Read(Path.Combine(root, SyntheticDatasetGenerator.LabelsFileName)), label => Assert.StartsWith("fabric/", label.Path));
    }

    [Fact]
    public void RefusesToWriteIntoAFolderWithOtherContent()
    {
        using var folder = new DataTestFolder();
        File.WriteAllText(folder.Combine("notes.txt"), "mine");

        var error = Assert.Throws<FarmException>(() => SyntheticDatasetGenerator.Generate(folder.Path, SmallOptions));

        Assert.Equal(folder.Path, error.File);
        Assert.True(File.Exists(folder.Combine("notes.txt")));
    }

    [Theory]
    [InlineData(16, 3, "size")]
    [InlineData(64, 0, "train-count")]
    public void RejectsInvalidOptionsNamingTheField(int size, int trainCount, string field)
    {
        using var folder = new DataTestFolder();

        var error = Assert.Throws<FarmException>(() =>
            SyntheticDatasetGenerator.Generate(folder.Path, SmallOptions with { Size = size, TrainCount = trainCount }));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void RejectsAnUnknownProduct()
    {
        using var folder = new DataTestFolder();

        var error = Assert.Throws<FarmException>(() =>
            SyntheticDatasetGenerator.Generate(folder.Path, SmallOptions with { Categories = ["widget", "teapot"] }));

        Assert.Equal("categories", error.Field);
        Assert.Contains("teapot", error.Message);
    }

    private IEnumerable<ImageSample> AllTestSamples() =>
        MvtecDataset.ListCategories(dataset.Root).SelectMany(category => MvtecDataset.LoadCategory(dataset.Root, category).Test);

    private static SortedDictionary<string, byte[]> ReadTree(string root) =>
        new(Directory.GetFiles(root, "*", SearchOption.AllDirectories)
                .ToDictionary(path => Path.GetRelativePath(root, path), File.ReadAllBytes),
            StringComparer.Ordinal);

    private static double MeanAbsoluteDifference(byte[] first, byte[] second) =>
        first.Zip(second, (a, b) => (double)Math.Abs(a - b)).Average();

    private static int PixelDifference(RgbImage first, RgbImage second, int pixel) =>
        Enumerable.Range(0, 3).Max(channel => Math.Abs(first.Pixels[(pixel * 3) + channel] - second.Pixels[(pixel * 3) + channel]));

    private static double MeanPixelDifference(RgbImage first, RgbImage second, List<int> pixels) =>
        pixels.Average(pixel => (double)PixelDifference(first, second, pixel));

    private static bool NearMask(BinaryMask mask, int pixel, int radius)
    {
        int x = pixel % mask.Width, y = pixel / mask.Width;
        for (var ny = Math.Max(0, y - radius); ny <= Math.Min(mask.Height - 1, y + radius); ny++)
        {
            for (var nx = Math.Max(0, x - radius); nx <= Math.Min(mask.Width - 1, x + radius); nx++)
            {
                if (mask.Pixels[(ny * mask.Width) + nx])
                {
                    return true;
                }
            }
        }
        return false;
    }
}
