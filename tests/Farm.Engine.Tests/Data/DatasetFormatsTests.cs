using Farm.Engine.Data;
using Farm.Engine.Data.Formats;
using Farm.Engine.Imaging;

namespace Farm.Engine.Tests.Data;

/// <summary>Each format against small generated folders in its layout, including broken ones.</summary>
public sealed class DatasetFormatsTests : IDisposable
{
    private readonly DataTestFolder _folder = new();
    private string Root => _folder.Combine("dataset");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void RegistryNamesEveryFormatAndSpecValidationUsesIt()
    {
        Assert.Equal(["mvtec", "synthetic", "mpdd", "btad", "visa", "mvtec_loco", "folder"], DatasetFormats.Names);
        Assert.Equal(DatasetFormats.Names, Farm.Engine.Sweeps.SpecValidation.AllFormats);
        var folders = new FolderLayout("bottles", "good", "bad");
        Assert.All(DatasetFormats.Names, name => Assert.Equal(name,
            DatasetFormats.Get(name.ToUpperInvariant(), name == DatasetFormats.Folder ? folders : null).Name));
        var error = Assert.Throws<FarmException>(() => DatasetFormats.Get("kolektor"));
        Assert.Contains("mvtec_loco", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MpddReadsTheMvtecLayout()
    {
        WriteMvtecLayout("bracket_black", mask: stem => $"{stem}_mask.png");

        var format = DatasetFormats.Get("mpdd");
        var category = format.LoadCategory(Root, "bracket_black");

        Assert.Equal(["bracket_black"], format.ListCategories(Root));
        Assert.Equal(["bracket_black/train/good/000.png"], category.Train.Select(s => s.RelativePath));
        var anomalous = Assert.Single(category.Test, s => s.IsAnomalous);
        Assert.Equal(("hole", _folder.Combine("dataset", "bracket_black", "ground_truth", "hole", "000_mask.png")),
            (anomalous.DefectType, anomalous.MaskPath));
        Assert.Null(category.Validation);
    }

    [Theory]
    [InlineData(".png")]
    [InlineData(".bmp")]
    public void BtadFindsMasksNamedLikeTheirImage(string maskExtension)
    {
        WriteMvtecLayout("01", mask: stem => stem + maskExtension);

        var category = DatasetFormats.Get("btad").LoadCategory(Root, "01");

        var anomalous = Assert.Single(category.Test, s => s.IsAnomalous);
        Assert.Equal(_folder.Combine("dataset", "01", "ground_truth", "hole", "000" + maskExtension), anomalous.MaskPath);
        Assert.True(MvtecDataset.ReadSample(anomalous).Mask.Pixels[0]);
    }

    [Fact]
    public void BtadAndMvtecNameTheMaskTheyExpected()
    {
        WriteMvtecLayout("01", mask: stem => $"{stem}_other.png");

        var btad = Assert.Throws<FarmException>(() => DatasetFormats.Get("btad").LoadCategory(Root, "01"));
        var mvtec = Assert.Throws<FarmException>(() => DatasetFormats.Get("mvtec").LoadCategory(Root, "01"));

        var maskFolder = _folder.Combine("dataset", "01", "ground_truth", "hole");
        Assert.Equal(Path.Combine(maskFolder, "000.png"), btad.File);
        Assert.Contains(Path.Combine(maskFolder, "000.bmp"), btad.Message, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(maskFolder, "000_mask.png"), mvtec.File);
        Assert.Contains("expected " + Path.Combine(maskFolder, "000_mask.png"), mvtec.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingTestFolderIsNamed()
    {
        WriteImage(_folder.Combine("dataset", "01", "train", "good", "000.png"));

        var error = Assert.Throws<FarmException>(() => DatasetFormats.Get("btad").LoadCategory(Root, "01"));

        Assert.Equal(_folder.Combine("dataset", "01", "test"), error.File);
    }

    [Fact]
    public void VisaReadsTheSplitCsv()
    {
        WriteVisa(
            "candle,train,normal,candle/Data/Images/Normal/0000.JPG,",
            "candle,test,normal,candle/Data/Images/Normal/0001.JPG,",
            "candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/000.png",
            "pcb1,train,normal,pcb1/Data/Images/Normal/0000.JPG,");

        var format = DatasetFormats.Get("visa");
        var category = format.LoadCategory(Root, "candle");

        Assert.Equal(["candle", "pcb1"], format.ListCategories(Root));
        Assert.Equal(["candle/Data/Images/Normal/0000.JPG"], category.Train.Select(s => s.RelativePath));
        Assert.Equal([("good", false), ("anomaly", true)], category.Test.Select(s => (s.DefectType, s.IsAnomalous)));
        Assert.Equal(_folder.Combine("dataset", "candle", "Data", "Masks", "Anomaly", "000.png"), category.Test[1].MaskPath);
        Assert.True(MvtecDataset.ReadSample(category.Test[1]).Mask.Pixels[0]);
    }

    [Fact]
    public void VisaWithoutSplitCsvNamesIt()
    {
        Directory.CreateDirectory(Root);

        var error = Assert.Throws<FarmException>(() => DatasetFormats.Get("visa").ListCategories(Root));

        Assert.Equal(_folder.Combine("dataset", "split_csv", "1cls.csv"), error.File);
        Assert.Contains("expected " + error.File, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VisaRowPointingAtAMissingFileNamesTheFileAndLine()
    {
        WriteVisa(
            "candle,train,normal,candle/Data/Images/Normal/0000.JPG,",
            "candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/000.png");
        File.Delete(_folder.Combine("dataset", "candle", "Data", "Masks", "Anomaly", "000.png"));

        var error = Assert.Throws<FarmException>(() => DatasetFormats.Get("visa").LoadCategory(Root, "candle"));

        Assert.Equal(_folder.Combine("dataset", "candle", "Data", "Masks", "Anomaly", "000.png"), error.File);
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VisaRejectsUnknownLabelsAndAnomaliesInTraining()
    {
        WriteVisa("candle,train,anomaly,candle/a.png,candle/m.png", "candle,test,normal,candle/b.png,");
        var training = Assert.Throws<FarmException>(() => DatasetFormats.Get("visa").LoadCategory(Root, "candle"));
        Assert.Contains("line 2", training.Message, StringComparison.Ordinal);

        WriteVisa("candle,train,normal,candle/a.png,", "candle,test,broken,candle/b.png,");
        var label = Assert.Throws<FarmException>(() => DatasetFormats.Get("visa").LoadCategory(Root, "candle"));
        Assert.Contains("label 'broken'", label.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LocoReadsValidationImagesAndUnitesItsMasks()
    {
        WriteLoco("breakfast_box");

        var category = DatasetFormats.Get("mvtec_loco").LoadCategory(Root, "breakfast_box");

        Assert.Equal(["breakfast_box/validation/good/000.png"], category.Validation!.Select(s => s.RelativePath));
        var anomalous = Assert.Single(category.Test, s => s.IsAnomalous);
        Assert.Equal(_folder.Combine("dataset", "breakfast_box", "ground_truth", "logical_anomalies", "000"), anomalous.MaskPath);
        var mask = MvtecDataset.ReadSample(anomalous).Mask;
        // 000.png marks the left column, 001.png the top row: the union holds both and nothing else.
        Assert.Equal(8 + 8 - 1, mask.Pixels.Count(pixel => pixel));
        Assert.True(mask.Pixels[7] && mask.Pixels[8 * 7] && !mask.Pixels[9]);
    }

    [Fact]
    public void LocoManifestListsValidationImagesAndEveryMaskFile()
    {
        WriteLoco("breakfast_box");

        var manifest = DatasetManifest.Build(DatasetFormats.Get("mvtec_loco").LoadCategory(Root, "breakfast_box"));

        Assert.Equal("validation", manifest.Files.Single(file => file.RelativePath == "breakfast_box/validation/good/000.png").Split);
        Assert.Equal(
            ["breakfast_box/ground_truth/logical_anomalies/000/000.png", "breakfast_box/ground_truth/logical_anomalies/000/001.png"],
            manifest.Files.Where(file => file.Role == "mask").Select(file => file.RelativePath));
    }

    [Fact]
    public void LocoImageWithoutMaskFolderNamesTheFolder()
    {
        WriteLoco("breakfast_box");
        var maskFolder = _folder.Combine("dataset", "breakfast_box", "ground_truth", "logical_anomalies", "000");
        Directory.Delete(maskFolder, recursive: true);

        var error = Assert.Throws<FarmException>(() => DatasetFormats.Get("mvtec_loco").LoadCategory(Root, "breakfast_box"));

        Assert.Equal(maskFolder, error.File);
        Assert.Contains("expected " + maskFolder, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LocoWithoutValidationFolderOrWithAnEmptyMaskFolderFails()
    {
        WriteLoco("breakfast_box");
        var maskFolder = _folder.Combine("dataset", "breakfast_box", "ground_truth", "logical_anomalies", "000");
        foreach (var file in Directory.GetFiles(maskFolder))
        {
            File.Delete(file);
        }
        var empty = Assert.Throws<FarmException>(() => DatasetFormats.Get("mvtec_loco").LoadCategory(Root, "breakfast_box"));
        Assert.Equal(maskFolder, empty.File);

        var validation = _folder.Combine("dataset", "breakfast_box", "validation");
        Directory.Delete(validation, recursive: true);
        var missing = Assert.Throws<FarmException>(() => DatasetFormats.Get("mvtec_loco").LoadCategory(Root, "breakfast_box"));
        Assert.Equal(Path.Combine(validation, "good"), missing.File);
    }

    /// <summary>One training image, one good and one "hole" test image, and the hole's mask named by <paramref name="mask"/>.</summary>
    private void WriteMvtecLayout(string category, Func<string, string> mask)
    {
        WriteImage(_folder.Combine("dataset", category, "train", "good", "000.png"));
        WriteImage(_folder.Combine("dataset", category, "test", "good", "000.png"));
        WriteImage(_folder.Combine("dataset", category, "test", "hole", "000.png"));
        WriteMask(_folder.Combine("dataset", category, "ground_truth", "hole", mask("000")), (x, y) => x == 0);
    }

    private void WriteLoco(string category)
    {
        WriteMvtecLayout(category, mask: _ => "unused.png");
        WriteImage(_folder.Combine("dataset", category, "validation", "good", "000.png"));
        WriteImage(_folder.Combine("dataset", category, "test", "logical_anomalies", "000.png"));
        Directory.Delete(_folder.Combine("dataset", category, "test", "hole"), recursive: true);
        var maskFolder = _folder.Combine("dataset", category, "ground_truth", "logical_anomalies", "000");
        WriteMask(Path.Combine(maskFolder, "000.png"), (x, y) => x == 0);
        WriteMask(Path.Combine(maskFolder, "001.png"), (x, y) => y == 0);
    }

    /// <summary>Writes the split CSV and every image and mask its rows name.</summary>
    private void WriteVisa(params string[] rows)
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
        var csv = _folder.Combine("dataset", "split_csv", "1cls.csv");
        Directory.CreateDirectory(Path.GetDirectoryName(csv)!);
        File.WriteAllLines(csv, ["object,split,label,image,mask", .. rows]);
        foreach (var cells in rows.Select(row => row.Split(',')))
        {
            WriteImage(Path.Combine(Root, cells[3]));
            if (cells[4].Length > 0)
            {
                WriteMask(Path.Combine(Root, cells[4]), (x, y) => x == 0);
            }
        }
    }

    private static void WriteImage(string path) =>
        ImageIo.WritePng(path, new RgbImage(8, 8, Enumerable.Repeat((byte)120, 8 * 8 * 3).ToArray()));

    private static void WriteMask(string path, Func<int, int, bool> anomalous) =>
        ImageIo.WriteMaskPng(path, new BinaryMask(8, 8, [.. Enumerable.Range(0, 64).Select(i => anomalous(i % 8, i / 8))]));
}
