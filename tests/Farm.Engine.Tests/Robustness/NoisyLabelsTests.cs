using Farm.Engine.Data;
using Farm.Engine.Robustness;

namespace Farm.Engine.Tests.Robustness;

public class NoisyLabelsTests(RobustnessDatasetFixture dataset) : IClassFixture<RobustnessDatasetFixture>
{
    private DataSplit Split => DataSplitter.Split(MvtecDataset.LoadCategory(dataset.Root, "widget"), 0, 2, 1);

    [Theory]
    [InlineData(0.04)]
    [InlineData(0.08)]
    [InlineData(0.16)]
    public void ReplacesRoundedShareOfNormalTrainingImagesWithAnomalousTestImages(double rate)
    {
        var split = Split;
        var expected = (int)Math.Round(rate * split.Train.Count, MidpointRounding.AwayFromZero);

        var result = NoisyLabels.Contaminate(split, rate, seed: 1);

        Assert.True(expected > 0);
        Assert.Equal(expected, result.Injected.Count);
        Assert.Equal(expected, result.Removed.Count);
        Assert.Equal(split.Train.Count, result.Split.Train.Count);
        Assert.Equal(expected, result.Split.Train.Count(s => s.IsAnomalous));
        Assert.Equal(split.Test.Count - expected, result.Split.Test.Count);
        Assert.Equal(split.Validation, result.Split.Validation);
        Assert.All(result.Injected, s => Assert.True(s.IsAnomalous));
        Assert.All(result.Injected, s => Assert.Contains(s, split.Test));
        Assert.All(result.Removed, s => Assert.DoesNotContain(s, result.Split.Train));
        // Every image is still in exactly one place, apart from the removed normal ones.
        Assert.Equal(
            split.Train.Concat(split.Validation).Concat(split.Test).Except(result.Removed).Select(s => s.RelativePath).Order(),
            result.Split.Train.Concat(result.Split.Validation).Concat(result.Split.Test).Select(s => s.RelativePath).Order());
        NoisyLabels.EnsureDisjointAllowingInjectedAnomalies(result);
        Assert.Throws<InvalidOperationException>(() => DataSplitter.EnsureDisjoint(result.Split));
    }

    [Fact]
    public void SameSeedSameChoiceOtherSeedsDiffer()
    {
        var split = Split;
        string Choice(int seed)
        {
            var result = NoisyLabels.Contaminate(split, 0.16, seed);
            return string.Join(",", result.Injected.Concat(result.Removed).Select(s => s.RelativePath));
        }

        Assert.Equal(Choice(3), Choice(3));
        // Order of the input lists does not matter.
        var shuffled = split with { Train = [.. split.Train.Reverse()], Test = [.. split.Test.Reverse()] };
        var reordered = NoisyLabels.Contaminate(shuffled, 0.16, 3);
        Assert.Equal(
            Choice(3).Split(',').Order(),
            reordered.Injected.Concat(reordered.Removed).Select(s => s.RelativePath).Order());
        Assert.True(Enumerable.Range(0, 8).Select(Choice).Distinct().Count() > 1);
    }

    [Fact]
    public void ZeroRateChangesNothing()
    {
        var split = Split;

        var result = NoisyLabels.Contaminate(split, 0, 5);

        Assert.Empty(result.Injected);
        Assert.Equal(split.Train, result.Split.Train);
        Assert.Equal(split.Test, result.Split.Test);
    }

    [Fact]
    public void AnInjectedImageLeftInTestIsRejected()
    {
        var result = NoisyLabels.Contaminate(Split, 0.16, 2);
        var leaky = result with { Split = result.Split with { Test = [.. result.Split.Test, result.Injected[0]] } };

        var error = Assert.Throws<InvalidOperationException>(() => NoisyLabels.EnsureDisjointAllowingInjectedAnomalies(leaky));

        Assert.Contains(result.Injected[0].RelativePath, error.Message);
    }

    [Fact]
    public void TooFewAnomalousTestImagesNamesTheField()
    {
        var split = Split;
        var anomalous = split.Test.Count(s => s.IsAnomalous);
        // A rate that would take every anomalous test image.
        var rate = (double)anomalous / split.Train.Count;

        var error = Assert.Throws<FarmException>(() => NoisyLabels.Contaminate(split, rate, 0));

        Assert.Equal(NoisyLabels.Field, error.Field);
        Assert.Contains($"has {anomalous}", error.Message);
        Assert.Equal(NoisyLabels.Field, Assert.Throws<FarmException>(() => NoisyLabels.Contaminate(split, 1.5, 0)).Field);
    }
}
