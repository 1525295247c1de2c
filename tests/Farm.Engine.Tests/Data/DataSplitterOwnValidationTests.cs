using Farm.Engine.Data;
using Farm.Engine.Data.Formats;
using Farm.Engine.Robustness;

namespace Farm.Engine.Tests.Data;

/// <summary>
/// Splits of a category with its own validation images (MVTec LOCO's <c>validation/good</c>): normal validation
/// images come from there, anomalous ones from test, and the test set keeps every normal image.
/// </summary>
public sealed class DataSplitterOwnValidationTests : IDisposable
{
    private const string Category = "breakfast_box";
    private const int ValidationImages = 6;
    private const int TestGood = 4;
    private const int PerDefect = 3;

    private readonly DataTestFolder _folder = new();

    public DataSplitterOwnValidationTests() =>
        DatasetLayouts.WriteLoco(Root, Category, train: 5, ValidationImages, TestGood, PerDefect);

    private string Root => _folder.Combine("loco");

    private DatasetCategory Loco => DatasetFormats.Get("mvtec_loco").LoadCategory(Root, Category);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void NormalValidationImagesComeOnlyFromValidationGoodAndTestKeepsEveryNormalImage()
    {
        var category = Loco;

        var split = DataSplitter.Split(category, seed: 0, validationAnomalous: 2, validationNormal: 3);

        var normals = split.Validation.Where(s => !s.IsAnomalous).ToList();
        Assert.Equal(3, normals.Count);
        Assert.All(normals, s => Assert.StartsWith($"{Category}/validation/good/", s.RelativePath, StringComparison.Ordinal));
        Assert.Subset(category.Validation!.ToHashSet(), normals.ToHashSet());
        var anomalous = split.Validation.Where(s => s.IsAnomalous).ToList();
        Assert.Equal(2, anomalous.Count);
        Assert.Subset(category.Test.ToHashSet(), anomalous.ToHashSet());

        Assert.Equal(category.Test.Where(s => !s.IsAnomalous), split.Test.Where(s => !s.IsAnomalous));
        Assert.Equal(TestGood, split.Test.Count(s => !s.IsAnomalous));
        Assert.Equal(category.Test.Except(anomalous), split.Test);
        Assert.Equal(category.Train, split.Train);
        DataSplitter.EnsureDisjoint(split);
    }

    [Fact]
    public void SameSeedSameSplitOtherSeedOtherValidationImages()
    {
        var category = Loco;
        string[] NormalsOf(int seed) =>
            [.. DataSplitter.Split(category, seed, 2, 3).Validation.Where(s => !s.IsAnomalous).Select(s => s.RelativePath)];

        Assert.Equal(NormalsOf(5), NormalsOf(5));
        Assert.Equal(DataSplitter.Split(category, 5, 2, 3), DataSplitter.Split(category, 5, 2, 3), SplitComparer.Instance);
        var distinct = Enumerable.Range(0, 8).Select(seed => string.Join(",", NormalsOf(seed))).Distinct().Count();
        Assert.True(distinct > 1, "every seed chose the same validation/good images");
    }

    [Fact]
    public void TakingOneMoreImageKeepsTheOnesAlreadyChosen()
    {
        // One seeded ranking of validation/good: a larger validation.normal extends the smaller one's choice.
        var category = Loco;
        for (var count = 1; count < ValidationImages; count++)
        {
            var fewer = DataSplitter.Split(category, 3, 1, count).Validation.Where(s => !s.IsAnomalous);
            var more = DataSplitter.Split(category, 3, 1, count + 1).Validation.Where(s => !s.IsAnomalous);
            Assert.Subset(more.ToHashSet(), fewer.ToHashSet());
        }
    }

    [Fact]
    public void EveryValidationImageMayBeTakenButNotMoreAndTheErrorNamesTheFolderAndField()
    {
        var category = Loco;

        var all = DataSplitter.Split(category, 0, 1, ValidationImages);
        Assert.Equal(category.Validation!.ToHashSet(), all.Validation.Where(s => !s.IsAnomalous).ToHashSet());

        var error = Assert.Throws<FarmException>(() => DataSplitter.Split(category, 0, 1, ValidationImages + 1));
        Assert.Equal("validation.normal", error.Field);
        Assert.Equal(_folder.Combine("loco", Category, "validation", "good"), error.File);
        Assert.Contains($"takes {ValidationImages + 1} normal images but {Category}/validation/good holds {ValidationImages}",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnomalousValidationImagesStillComeFromTestAndOneMustRemain()
    {
        var error = Assert.Throws<FarmException>(() => DataSplitter.Split(Loco, 0, 2 * PerDefect, 1));

        Assert.Equal("validation.anomalous", error.Field);
        Assert.Contains($"has {2 * PerDefect}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyValidationFolderIsNamedWhenTheCategoryLoads()
    {
        var validation = _folder.Combine("loco", Category, "validation", "good");
        foreach (var file in Directory.GetFiles(validation))
        {
            File.Delete(file);
        }

        var error = Assert.Throws<FarmException>(() => Loco);

        Assert.Equal(validation, error.File);
        Assert.Contains("holds no images", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoisyLabelsContaminateALocoSplitWithoutTouchingItsValidationImages()
    {
        var split = DataSplitter.Split(Loco, 0, 1, 2);

        var contaminated = NoisyLabels.Contaminate(split, rate: 0.4, seed: 1);

        Assert.Equal(2, contaminated.Injected.Count);
        Assert.Equal(split.Validation, contaminated.Split.Validation);
        Assert.Equal(split.Test.Where(s => !s.IsAnomalous), contaminated.Split.Test.Where(s => !s.IsAnomalous));
        NoisyLabels.EnsureDisjointAllowingInjectedAnomalies(contaminated);
    }

    /// <summary>Splits are equal when their three parts list the same images in the same order.</summary>
    private sealed class SplitComparer : IEqualityComparer<DataSplit>
    {
        public static readonly SplitComparer Instance = new();

        public bool Equals(DataSplit? x, DataSplit? y) =>
            x is not null && y is not null && x.Seed == y.Seed
            && x.Train.SequenceEqual(y.Train) && x.Validation.SequenceEqual(y.Validation) && x.Test.SequenceEqual(y.Test);

        public int GetHashCode(DataSplit obj) => obj.Seed;
    }
}
