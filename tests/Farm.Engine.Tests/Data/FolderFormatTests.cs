using System.Security.Cryptography;
using System.Text;
using Farm.Engine.Data;
using Farm.Engine.Data.Formats;
using Farm.Engine.Imaging;

namespace Farm.Engine.Tests.Data;

/// <summary>The generic folder format against small generated folders, including broken ones.</summary>
public sealed class FolderFormatTests : IDisposable
{
    private readonly DataTestFolder _folder = new();

    private string Root => _folder.Combine("bottles");

    public void Dispose() => _folder.Dispose();

    private static readonly FolderLayout WithMasks = new("bottles", "good", "defective", Masks: "ground_truth");

    private static IDatasetFormat Format(FolderLayout layout) => DatasetFormats.Get(DatasetFormats.Folder, layout);

    private string At(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>
    /// Five normal images; anomalous ones directly in defective/, in defective/crack/ and two levels down in
    /// defective/crack/deep/; masks named both ways the format accepts.
    /// </summary>
    private void WriteDataset(bool masks = true)
    {
        foreach (var name in new[] { "000.png", "001.png", "002.png", "003.png", "004.png" })
        {
            WriteImage(At("good", name));
        }
        WriteImage(At("defective", "a.png"));
        WriteImage(At("defective", "crack", "b.png"));
        WriteImage(At("defective", "crack", "deep", "c.png"));
        if (masks)
        {
            WriteMask(At("ground_truth", "a.png"));
            WriteMask(At("ground_truth", "crack", "b_mask.png"));
            WriteMask(At("ground_truth", "crack", "deep", "c.png"));
        }
    }

    [Fact]
    public void LoadsOneCategoryWithDefectTypesFromSubfoldersAndMasksNamedEitherWay()
    {
        WriteDataset();

        var format = Format(WithMasks);
        var category = format.LoadCategory(Root, "bottles");

        Assert.Equal(["bottles"], format.ListCategories(Root));
        Assert.Equal(("bottles", Root), (category.Name, category.DatasetRoot));
        Assert.Null(category.Validation);
        var anomalous = category.Test.Where(s => s.IsAnomalous).ToList();
        Assert.Equal(
        [
            ("defective/a.png", "defective", At("ground_truth", "a.png")),
            ("defective/crack/b.png", "crack", At("ground_truth", "crack", "b_mask.png")),
            ("defective/crack/deep/c.png", "crack", At("ground_truth", "crack", "deep", "c.png")),
        ], anomalous.Select(s => (s.RelativePath, s.DefectType, s.MaskPath)));
        Assert.Equal(At("defective", "crack", "b.png"), anomalous[1].ImagePath);
        Assert.True(MvtecDataset.ReadSample(anomalous[1]).Mask.Pixels[0]);

        // round(0.2 × 5) = 1 of the 5 normal images is held out for testing; the rest train.
        Assert.Equal(4, category.Train.Count);
        var normalTest = Assert.Single(category.Test, s => !s.IsAnomalous);
        Assert.All(category.Train.Append(normalTest), s => Assert.Equal(("good", (string?)null), (s.DefectType, s.MaskPath)));
        Assert.Equal(5, category.Train.Append(normalTest).Select(s => s.RelativePath).Distinct().Count());
        Assert.All(category.Train.Append(normalTest), s => Assert.StartsWith("good/", s.RelativePath, StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutMasksAnomalousImagesHaveNoGroundTruthAndTheManifestNoMaskFiles()
    {
        WriteDataset(masks: false);

        var category = Format(WithMasks with { Masks = null }).LoadCategory(Root, "bottles");

        Assert.All(category.Test.Where(s => s.IsAnomalous), s => Assert.Null(s.MaskPath));
        Assert.Null(MvtecDataset.ReadImageAndGroundTruth(category.Test.First(s => s.IsAnomalous)).Mask);
        var manifest = DatasetManifest.Build(category);
        Assert.Equal(5 + 3, manifest.Files.Count);
        Assert.All(manifest.Files, file => Assert.Equal("image", file.Role));
        Assert.Equal(3, manifest.Files.Count(file => file.Label == "anomalous"));
    }

    [Fact]
    public void NormalTestFolderGivesTheNormalTestImagesAndEveryNormalImageTrains()
    {
        WriteDataset();
        WriteImage(At("good_test", "x.png"));
        WriteImage(At("good_test", "y.png"));

        var category = Format(WithMasks with { NormalTest = "good_test" }).LoadCategory(Root, "bottles");

        Assert.Equal(5, category.Train.Count);
        Assert.Equal(["good_test/x.png", "good_test/y.png"], category.Test.Where(s => !s.IsAnomalous).Select(s => s.RelativePath));
        Assert.Equal(3, category.Test.Count(s => s.IsAnomalous));
    }

    [Fact]
    public void HeldOutNormalImagesAreTheFirstBySha256OfTheirPathBelowTheNormalFolder()
    {
        WriteDataset();
        for (var i = 5; i < 12; i++)
        {
            WriteImage(At("good", "sub", $"{i:000}.png"));
        }

        var category = Format(WithMasks with { NormalTestRatio = 0.25 }).LoadCategory(Root, "bottles");

        // 12 normal images: round(0.25 × 12) = 3 held out, by hash rank of "000.png" … "sub/011.png".
        var below = Directory.GetFiles(At("good"), "*.png", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(At("good"), path).Replace('\\', '/'));
        var expected = below
            .OrderBy(path => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(path))), StringComparer.Ordinal)
            .Take(3)
            .Select(path => "good/" + path)
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, category.Test.Where(s => !s.IsAnomalous).Select(s => s.RelativePath).Order(StringComparer.Ordinal));
        Assert.Equal(9, category.Train.Count);
    }

    [Fact]
    public void TheNormalSplitIsTheSameForEverySeedAndWhereverTheDatasetLies()
    {
        WriteDataset();
        var category = Format(WithMasks).LoadCategory(Root, "bottles");

        var moved = _folder.Combine("elsewhere", "renamed");
        Directory.CreateDirectory(Path.GetDirectoryName(moved)!);
        Directory.Move(Root, moved);
        var movedCategory = Format(WithMasks).LoadCategory(moved, "bottles");

        static string[] NormalTest(DatasetCategory c) => [.. c.Test.Where(s => !s.IsAnomalous).Select(s => s.RelativePath)];
        Assert.Equal(NormalTest(category), NormalTest(movedCategory));
        Assert.Equal(category.Train.Select(s => s.RelativePath), movedCategory.Train.Select(s => s.RelativePath));
        // The run seed only picks validation images out of the test set; training never changes with it.
        var splits = Enumerable.Range(0, 3).Select(seed => DataSplitter.Split(movedCategory, seed, 1, 0)).ToList();
        Assert.All(splits, split => Assert.Equal(movedCategory.Train, split.Train));
        Assert.Equal(DatasetManifest.Build(movedCategory).DatasetHash, DatasetManifest.Build(Format(WithMasks).LoadCategory(moved, "bottles")).DatasetHash);
    }

    [Theory]
    [InlineData(0.01, 1)] // at least one normal test image
    [InlineData(0.5, 3)] // round(2.5) = 3: halves round away from zero
    [InlineData(0.99, 4)] // at least one training image
    public void HeldOutShareIsRoundedAndKeepsBothSidesNonEmpty(double ratio, int expected)
    {
        WriteDataset();

        var category = Format(WithMasks with { NormalTestRatio = ratio }).LoadCategory(Root, "bottles");

        Assert.Equal(expected, category.Test.Count(s => !s.IsAnomalous));
        Assert.Equal(5 - expected, category.Train.Count);
    }

    [Fact]
    public void AFolderOutsideTheRootMovesTheImagePathsRootUpToTheFolderHoldingBoth()
    {
        WriteDataset();
        var outside = _folder.Combine("shared", "extra_good");
        WriteImage(Path.Combine(outside, "z.png"));

        var category = Format(WithMasks with { NormalTest = outside }).LoadCategory(Root, "bottles");

        Assert.Equal(_folder.Path, category.DatasetRoot);
        Assert.Equal("shared/extra_good/z.png", Assert.Single(category.Test, s => !s.IsAnomalous).RelativePath);
        Assert.Contains(category.Test, s => s.RelativePath == "bottles/defective/a.png");
    }

    [Theory]
    [InlineData("normal")]
    [InlineData("abnormal")]
    [InlineData("masks")]
    [InlineData("normal_test")]
    public void AMissingFolderIsNamedWithItsField(string field)
    {
        WriteDataset();
        var layout = field switch
        {
            "normal" => WithMasks with { Normal = "nothing" },
            "abnormal" => WithMasks with { Abnormal = "nothing" },
            "masks" => WithMasks with { Masks = "nothing" },
            _ => WithMasks with { NormalTest = "nothing" },
        };

        var error = Assert.Throws<FarmException>(() => Format(layout).LoadCategory(Root, "bottles"));

        Assert.Equal((At("nothing"), field), (error.File, error.Field));
        Assert.Equal($"{At("nothing")}: {field}: {field} folder not found", error.Message);
    }

    [Theory]
    [InlineData("good", "normal")]
    [InlineData("defective", "abnormal")]
    public void AFolderWithoutImagesIsNamed(string folder, string field)
    {
        WriteDataset();
        Directory.Delete(At(folder), recursive: true);
        Directory.CreateDirectory(At(folder, "empty_subfolder"));
        File.WriteAllText(At(folder, "notes.txt"), "not an image");

        var error = Assert.Throws<FarmException>(() => Format(WithMasks).LoadCategory(Root, "bottles"));

        Assert.Equal((At(folder), field), (error.File, error.Field));
        Assert.Contains("holds no images", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingMaskNamesTheImageAndBothExpectedPaths()
    {
        WriteDataset();
        File.Delete(At("ground_truth", "crack", "b_mask.png"));

        var error = Assert.Throws<FarmException>(() => Format(WithMasks).LoadCategory(Root, "bottles"));

        Assert.Equal((At("ground_truth", "crack", "b.png"), "masks"), (error.File, error.Field));
        Assert.Contains("defective/crack/b.png", error.Message, StringComparison.Ordinal);
        Assert.Contains($"expected {At("ground_truth", "crack", "b.png")} or {At("ground_truth", "crack", "b_mask.png")}",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoMasksForOneImageAreRefused()
    {
        WriteDataset();
        WriteMask(At("ground_truth", "a_mask.png"));

        var error = Assert.Throws<FarmException>(() => Format(WithMasks).LoadCategory(Root, "bottles"));

        Assert.Equal("masks", error.Field);
        Assert.Contains(At("ground_truth", "a.png"), error.Message, StringComparison.Ordinal);
        Assert.Contains(At("ground_truth", "a_mask.png"), error.Message, StringComparison.Ordinal);
        Assert.Contains("two masks", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoImagesWhoseStemsWouldShareOneMaskAreRefused()
    {
        WriteDataset();
        WriteImage(At("defective", "a.jpg"));

        var error = Assert.Throws<FarmException>(() => Format(WithMasks).LoadCategory(Root, "bottles"));

        Assert.Equal((At("ground_truth", "a.png"), "masks"), (error.File, error.Field));
        Assert.Contains("defective/a.jpg and defective/a.png would share this mask", error.Message, StringComparison.Ordinal);
        // Without masks the two are just two anomalous images.
        Assert.Equal(4, Format(WithMasks with { Masks = null }).LoadCategory(Root, "bottles").Test.Count(s => s.IsAnomalous));
    }

    [Fact]
    public void AMaskOfAnotherSizeThanItsImageIsNamed()
    {
        WriteDataset();
        ImageIo.WriteMaskPng(At("ground_truth", "crack", "deep", "c.png"), BinaryMask.Empty(8, 7));

        var error = Assert.Throws<FarmException>(() => Format(WithMasks).LoadCategory(Root, "bottles"));

        Assert.Equal(At("ground_truth", "crack", "deep", "c.png"), error.File);
        Assert.Contains("8×7", error.Message, StringComparison.Ordinal);
        Assert.Contains(At("defective", "crack", "deep", "c.png") + " is 8×8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverlappingFoldersAreRefused()
    {
        WriteDataset();
        WriteImage(At("good", "held_out", "x.png"));

        var nested = Assert.Throws<FarmException>(() =>
            Format(WithMasks with { NormalTest = "good/held_out" }).LoadCategory(Root, "bottles"));
        var same = Assert.Throws<FarmException>(() =>
            Format(WithMasks with { Masks = "defective" }).LoadCategory(Root, "bottles"));

        Assert.Equal((At("good", "held_out"), "normal_test"), (nested.File, nested.Field));
        Assert.Contains("neither inside the other", nested.Message, StringComparison.Ordinal);
        Assert.Equal((At("defective"), "masks"), (same.File, same.Field));
    }

    [Fact]
    public void OneNormalImageCannotBeSplitWithoutNormalTest()
    {
        WriteDataset();
        foreach (var name in new[] { "001.png", "002.png", "003.png", "004.png" })
        {
            File.Delete(At("good", name));
        }

        var error = Assert.Throws<FarmException>(() => Format(WithMasks).LoadCategory(Root, "bottles"));

        Assert.Equal((At("good"), "normal"), (error.File, error.Field));
        Assert.Contains("normal_test", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheOnlyCategoryIsTheLayoutsAndTheFormatNeedsALayout()
    {
        WriteDataset();

        var wrongCategory = Assert.Throws<FarmException>(() => Format(WithMasks).LoadCategory(Root, "cans"));
        var noLayout = Assert.Throws<FarmException>(() => DatasetFormats.Get("folder"));

        Assert.Contains("'bottles'", wrongCategory.Message, StringComparison.Ordinal);
        Assert.Equal("format", noLayout.Field);
        Assert.Throws<ArgumentException>(() => DatasetFormats.Get("mvtec", WithMasks));
    }

    private static void WriteImage(string path) =>
        ImageIo.WritePng(path, new RgbImage(8, 8, Enumerable.Repeat((byte)120, 8 * 8 * 3).ToArray()));

    private static void WriteMask(string path) =>
        ImageIo.WriteMaskPng(path, new BinaryMask(8, 8, [.. Enumerable.Range(0, 64).Select(i => i % 8 == 0)]));
}
