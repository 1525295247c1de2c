using Farm.Engine.Data;
using Farm.Engine.Data.Synthetic;
using Farm.Engine.Imaging;

namespace Farm.Engine.Tests.Data;

public sealed class MvtecDatasetTests(GeneratedDatasetFixture dataset) : IClassFixture<GeneratedDatasetFixture>, IDisposable
{
    private readonly DataTestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void ListsCategoriesInOrdinalOrder()
    {
        Assert.Equal(["fabric", "widget"], MvtecDataset.ListCategories(dataset.Root));
    }

    [Fact]
    public void LoadsAGeneratedCategoryWithCountsPathsAndDefectTypes()
    {
        var options = GeneratedDatasetFixture.Options;
        var widget = SyntheticProduct.All.Single(product => product.Name == "widget");

        var category = MvtecDataset.LoadCategory(dataset.Root, "widget");

        Assert.Equal("widget", category.Name);
        Assert.Equal(Path.GetFullPath(dataset.Root), category.DatasetRoot);
        Assert.Equal(options.TrainCount, category.Train.Count);
        Assert.Equal(options.TestGoodCount + (widget.DefectTypes.Count * options.TestPerDefectType), category.Test.Count);
        Assert.All(category.Train, sample => Assert.Equal(("good", false, (string?)null), (sample.DefectType, sample.IsAnomalous, sample.MaskPath)));
        Assert.Equal("widget/train/good/000.png", category.Train[0].RelativePath);
        Assert.Equal(Path.Combine(category.DatasetRoot, "widget", "train", "good", "000.png"), category.Train[0].ImagePath);

        var expectedTypes = widget.DefectTypes.Select(type => type.Name).Append("good").Order(StringComparer.Ordinal);
        Assert.Equal(expectedTypes, category.Test.Select(sample => sample.DefectType).Distinct());
        var scratch = category.Test.First(sample => sample.DefectType == "scratch");
        Assert.True(scratch.IsAnomalous);
        Assert.Equal("widget/test/scratch/000.png", scratch.RelativePath);
        Assert.Equal(Path.Combine(category.DatasetRoot, "widget", "ground_truth", "scratch", "000_mask.png"), scratch.MaskPath);
        Assert.All(category.Test, sample => Assert.Equal(sample.DefectType != "good", sample.IsAnomalous));
    }

    [Fact]
    public void ReadSampleGivesAnEmptyMaskForNormalImages()
    {
        var sample = MvtecDataset.LoadCategory(dataset.Root, "fabric").Test.First(sample => !sample.IsAnomalous);

        var (image, mask) = MvtecDataset.ReadSample(sample);

        Assert.Equal((image.Width, image.Height), (mask.Width, mask.Height));
        Assert.DoesNotContain(true, mask.Pixels);
    }

    [Fact]
    public void AcceptsImageExtensionsInAnyCaseAndSortsOrdinally()
    {
        var root = MakeCategory("part", trainNames: ["b.PNG", "a.png", "C.bmp", "notes.txt", "._a.png"]);
        WriteImage(Path.Combine(root, "part", "test", "good", "x.JpEg"), 8, 8, jpeg: true);

        var category = MvtecDataset.LoadCategory(root, "part");

        Assert.Equal(["part/train/good/C.bmp", "part/train/good/a.png", "part/train/good/b.PNG"], category.Train.Select(sample => sample.RelativePath));
        Assert.Equal(["part/test/good/000.png", "part/test/good/x.JpEg"], category.Test.Select(sample => sample.RelativePath));
    }

    [Fact]
    public void MissingTrainGoodFolderIsNamed()
    {
        var root = MakeCategory("part", trainNames: []);
        Directory.Delete(Path.Combine(root, "part", "train", "good"));

        var error = Assert.Throws<FarmException>(() => MvtecDataset.LoadCategory(root, "part"));

        Assert.Equal(Path.Combine(Path.GetFullPath(root), "part", "train", "good"), error.File);
    }

    [Fact]
    public void EmptyTrainGoodFolderIsNamed()
    {
        var root = MakeCategory("part", trainNames: ["readme.txt"]);

        var error = Assert.Throws<FarmException>(() => MvtecDataset.LoadCategory(root, "part"));

        Assert.Equal(Path.Combine(Path.GetFullPath(root), "part", "train", "good"), error.File);
    }

    [Fact]
    public void MissingRootAndCategoryAreNamed()
    {
        var root = MakeCategory("part", trainNames: ["a.png"]);
        var absentRoot = _folder.Combine("absent");

        Assert.Equal(absentRoot, Assert.Throws<FarmException>(() => MvtecDataset.LoadCategory(absentRoot, "part")).File);
        Assert.Equal(absentRoot, Assert.Throws<FarmException>(() => MvtecDataset.ListCategories(absentRoot)).File);
        Assert.Equal(Path.Combine(Path.GetFullPath(root), "bolt"), Assert.Throws<FarmException>(() => MvtecDataset.LoadCategory(root, "bolt")).File);
    }

    [Fact]
    public void CorruptImageBytesAreNamedAtLoadTime()
    {
        var root = MakeCategory("part", trainNames: ["a.png", "b.png"]);
        var corrupt = Path.Combine(Path.GetFullPath(root), "part", "train", "good", "b.png");
        File.WriteAllBytes(corrupt, "not an image at all"u8.ToArray());

        var error = Assert.Throws<FarmException>(() => MvtecDataset.LoadCategory(root, "part"));

        Assert.Equal(corrupt, error.File);
    }

    [Fact]
    public void MaskOfAnotherSizeIsNamedAtLoadTime()
    {
        var root = MakeCategory("part", trainNames: ["a.png"]);
        WriteImage(Path.Combine(root, "part", "test", "crack", "000.png"), 8, 8);
        var mask = Path.Combine(Path.GetFullPath(root), "part", "ground_truth", "crack", "000_mask.png");
        ImageIo.WriteMaskPng(mask, BinaryMask.Empty(8, 9));

        var error = Assert.Throws<FarmException>(() => MvtecDataset.LoadCategory(root, "part"));

        Assert.Equal(mask, error.File);
        Assert.Contains("8×9", error.Message);
        Assert.Contains("8×8", error.Message);
    }

    [Fact]
    public void MaskOfAnotherSizeIsNamedWhenReadingASample()
    {
        var root = MakeCategory("part", trainNames: ["a.png"]);
        var image = Path.Combine(root, "part", "test", "crack", "000.png");
        WriteImage(image, 8, 8);
        var mask = Path.Combine(root, "part", "ground_truth", "crack", "000_mask.png");
        ImageIo.WriteMaskPng(mask, BinaryMask.Empty(7, 8));
        var sample = new ImageSample(image, "part/test/crack/000.png", IsAnomalous: true, "crack", mask);

        var error = Assert.Throws<FarmException>(() => MvtecDataset.ReadSample(sample));

        Assert.Equal(mask, error.File);
    }

    [Fact]
    public void MissingMaskIsNamedByItsExpectedPath()
    {
        var root = MakeCategory("part", trainNames: ["a.png"]);
        WriteImage(Path.Combine(root, "part", "test", "crack", "007.png"), 8, 8);

        var error = Assert.Throws<FarmException>(() => MvtecDataset.LoadCategory(root, "part"));

        Assert.Equal(Path.Combine(Path.GetFullPath(root), "part", "ground_truth", "crack", "007_mask.png"), error.File);
        Assert.Contains("part/test/crack/007.png", error.Message);
    }

    [Fact]
    public void AnAnomalousImageWithoutMaskHasNoGroundTruthRatherThanAnEmptyMask()
    {
        var root = MakeCategory("part", trainNames: ["a.png"]);
        var image = Path.Combine(root, "part", "test", "crack", "000.png");
        WriteImage(image, 8, 6);
        var sample = new ImageSample(image, "part/test/crack/000.png", IsAnomalous: true, "crack", MaskPath: null);

        var (decoded, mask) = MvtecDataset.ReadImageAndGroundTruth(sample);

        Assert.Equal((8, 6), (decoded.Width, decoded.Height));
        Assert.Null(mask);
        // ReadSample promises a mask, so it still refuses such an image.
        var error = Assert.Throws<FarmException>(() => MvtecDataset.ReadSample(sample));
        Assert.Equal(image, error.File);
    }

    [Fact]
    public void MissingTestFolderIsNamed()
    {
        var root = MakeCategory("part", trainNames: ["a.png"]);
        Directory.Delete(Path.Combine(root, "part", "test"), recursive: true);

        var error = Assert.Throws<FarmException>(() => MvtecDataset.LoadCategory(root, "part"));

        Assert.Equal(Path.Combine(Path.GetFullPath(root), "part", "test"), error.File);
    }

    /// <summary>A one-category dataset with the given training files (images unless named *.txt) and one normal test image.</summary>
    private string MakeCategory(string category, string[] trainNames)
    {
        var root = _folder.Combine("dataset");
        var train = Path.Combine(root, category, "train", "good");
        Directory.CreateDirectory(train);
        foreach (var name in trainNames)
        {
            var path = Path.Combine(train, name);
            if (name.EndsWith(".txt", StringComparison.Ordinal))
            {
                File.WriteAllText(path, "text");
            }
            else if (name.StartsWith('.'))
            {
                File.WriteAllBytes(path, [0, 1, 2]);
            }
            else
            {
                WriteImage(path, 8, 8);
            }
        }
        WriteImage(Path.Combine(root, category, "test", "good", "000.png"), 8, 8);
        return root;
    }

    private static void WriteImage(string path, int width, int height, bool jpeg = false)
    {
        var image = new RgbImage(width, height, Enumerable.Repeat((byte)120, width * height * 3).ToArray());
        if (!jpeg)
        {
            // ImageIo writes PNG bytes whatever the extension; Skia detects the format from the bytes, as for real files.
            ImageIo.WritePng(path, image);
            return;
        }

        var png = path + ".tmp.png";
        ImageIo.WritePng(png, image);
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90);
        File.WriteAllBytes(path, data.ToArray());
        File.Delete(png);
    }
}
