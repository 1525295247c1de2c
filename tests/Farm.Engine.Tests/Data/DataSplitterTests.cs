using Farm.Engine.Data;

namespace Farm.Engine.Tests.Data;

public class DataSplitterTests(GeneratedDatasetFixture dataset) : IClassFixture<GeneratedDatasetFixture>
{
    private DatasetCategory Widget => MvtecDataset.LoadCategory(dataset.Root, "widget");

    [Fact]
    public void ValidationIsTakenFromTheTestSetAndTheThreePartsAreDisjoint()
    {
        var category = Widget;

        var split = DataSplitter.Split(category, seed: 0, validationAnomalous: 3, validationNormal: 1);

        Assert.Equal(3, split.Validation.Count(s => s.IsAnomalous));
        Assert.Equal(1, split.Validation.Count(s => !s.IsAnomalous));
        Assert.Equal(category.Test.Count - 4, split.Test.Count);
        Assert.Equal(category.Train, split.Train);
        Assert.Empty(split.Validation.Select(s => s.RelativePath).Intersect(split.Test.Select(s => s.RelativePath)));
        Assert.Empty(split.Train.Select(s => s.RelativePath).Intersect(split.Validation.Select(s => s.RelativePath)));
        Assert.Equal(
            category.Test.Select(s => s.RelativePath).Order(),
            split.Validation.Concat(split.Test).Select(s => s.RelativePath).Order());
    }

    [Fact]
    public void SameSeedSameSplitOtherSeedOtherSplit()
    {
        var category = Widget;
        string[] ValidationOf(int seed) =>
            [.. DataSplitter.Split(category, seed, 3, 1).Validation.Select(s => s.RelativePath)];

        Assert.Equal(ValidationOf(4), ValidationOf(4));
        var distinct = Enumerable.Range(0, 8).Select(seed => string.Join(",", ValidationOf(seed))).Distinct().Count();
        Assert.True(distinct > 1, "every seed chose the same validation images");
    }

    [Fact]
    public void AskingForMoreThanTheTestSetCanSpareNamesTheField()
    {
        var category = Widget;
        var anomalous = category.Test.Count(s => s.IsAnomalous);

        var error = Assert.Throws<FarmException>(() => DataSplitter.Split(category, 0, anomalous, 1));

        Assert.Equal("validation.anomalous", error.Field);
        Assert.Contains($"has {anomalous}", error.Message);
    }

    [Fact]
    public void AnOverlappingSplitIsRejected()
    {
        var category = Widget;
        var split = DataSplitter.Split(category, 0, 2, 1);
        var leaky = split with { Test = [.. split.Test, split.Validation[0]] };

        var error = Assert.Throws<InvalidOperationException>(() => DataSplitter.EnsureDisjoint(leaky));

        Assert.Contains(split.Validation[0].RelativePath, error.Message);
    }
}
