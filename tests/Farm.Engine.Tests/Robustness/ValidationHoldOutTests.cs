using Farm.Engine.Data;
using Farm.Engine.Pipeline;
using Farm.Engine.Robustness;

namespace Farm.Engine.Tests.Robustness;

public class ValidationHoldOutTests(RobustnessDatasetFixture dataset) : IClassFixture<RobustnessDatasetFixture>
{
    private DataSplit Split => DataSplitter.Split(MvtecDataset.LoadCategory(dataset.Root, "widget"), 0, 2, 1);

    [Fact]
    public void MovesTheRoundedShareOfTrainingImagesIntoValidation()
    {
        var split = Split;
        var count = ValidationHoldOut.Count(split.Train.Count, 0.1);

        var held = ValidationHoldOut.Apply(split, 0.1, seed: 4);

        Assert.Equal((int)Math.Round(0.1 * split.Train.Count, MidpointRounding.AwayFromZero), count);
        Assert.True(count >= 1);
        Assert.Equal(split.Train.Count - count, held.Train.Count);
        Assert.Equal(split.Validation.Count + count, held.Validation.Count);
        Assert.Equal(split.Test, held.Test);
        // The anomalous validation images stay; the new ones are normal training images.
        Assert.Equal(split.Validation, held.Validation.Take(split.Validation.Count));
        Assert.All(held.Validation.Skip(split.Validation.Count), s =>
        {
            Assert.False(s.IsAnomalous);
            Assert.Contains(s, split.Train);
        });
        DataSplitter.EnsureDisjoint(held);
    }

    [Fact]
    public void SeededAndIndependentOfListOrder()
    {
        var split = Split;
        string HeldOut(DataSplit source, int seed) => string.Join(",",
            ValidationHoldOut.Apply(source, 0.25, seed).Validation.Skip(source.Validation.Count).Select(s => s.RelativePath).Order());

        Assert.Equal(HeldOut(split, 1), HeldOut(split, 1));
        Assert.Equal(HeldOut(split, 1), HeldOut(split with { Train = [.. split.Train.Reverse()] }, 1));
        Assert.NotEqual(HeldOut(split, 1), HeldOut(split, 2));
    }

    [Fact]
    public void AtLeastOneHeldOutAndOneLeftToTrainOn()
    {
        var split = Split;
        var two = split with { Train = [.. split.Train.Take(2)] };

        Assert.Single(ValidationHoldOut.Apply(two, 0.01, 0).Train);
        var error = Assert.Throws<FarmException>(() => ValidationHoldOut.Apply(split with { Train = [split.Train[0]] }, 0.1, 0));
        Assert.Equal(ValidationHoldOut.Field, error.Field);
        Assert.Contains("leaves none to train on", error.Message);
        Assert.Throws<FarmException>(() => ValidationHoldOut.Apply(split, 1.0, 0));
    }

    [Fact]
    public void EpochOrderIsASeededShuffleThatChangesEveryEpoch()
    {
        var paths = Enumerable.Range(0, 20).Select(i => $"img{i:D2}.png").ToList();

        var first = ImageBatches.EpochOrder(paths, seed: 3, epoch: 1);

        Assert.Equal(paths, first.Order(StringComparer.Ordinal));
        Assert.Equal(first, ImageBatches.EpochOrder(paths, seed: 3, epoch: 1));
        Assert.NotEqual(first, ImageBatches.EpochOrder(paths, seed: 3, epoch: 2));
        Assert.NotEqual(first, ImageBatches.EpochOrder(paths, seed: 4, epoch: 1));
        Assert.NotEqual(paths, first);
    }
}
