using Farm.Engine.Data;
using Farm.Engine.Evaluation;

namespace Farm.Engine.Tests.Evaluation;

public class DefectBreakdownTests
{
    private static readonly string[] Names = ["good/0", "good/1", "crack/0", "crack/1", "glue/0", "odd/0"];
    private static readonly bool[] IsAnomalous = [false, false, true, true, true, true];

    private static readonly ProductLabel[] Labels =
    [
        new("crack/0", DefectCategory.Structural, true),
        new("crack/1", DefectCategory.Structural, true),
        new("glue/0", DefectCategory.Contamination, false),
    ];

    [Fact]
    public void WithoutLabelsOnlyAllIsReported()
    {
        var subsets = DefectBreakdown.Subsets(Names, IsAnomalous, labelOf: null);

        var all = Assert.Single(subsets);
        Assert.Equal("all", all.DefectCategory);
        Assert.Equal([0, 1, 2, 3, 4, 5], all.Indices);
        Assert.Null(all.Background);
    }

    [Fact]
    public void EachLabelledCategoryIsItsAnomaliesAgainstEveryNormalImage()
    {
        var subsets = DefectBreakdown.Subsets(Names, IsAnomalous, DefectBreakdown.ByPath(Labels));

        Assert.Equal(["all", "structural", "contamination"], subsets.Select(s => s.DefectCategory));
        Assert.Equal([0, 1, 2, 3], subsets[1].Indices);
        Assert.Equal([0, 1, 4], subsets[2].Indices);
        // The unlabelled anomaly counts only in "all".
        Assert.Contains(5, subsets[0].Indices);
        Assert.DoesNotContain(subsets.Skip(1), s => s.Indices.Contains(5));
    }

    [Fact]
    public void BackgroundIsTheFlagTheSubsetsLabelsShareOrNullWhenMixed()
    {
        var subsets = DefectBreakdown.Subsets(Names, IsAnomalous, DefectBreakdown.ByPath(Labels));

        Assert.Null(subsets[0].Background);
        Assert.True(subsets[1].Background);
        Assert.False(subsets[2].Background);
    }

    [Fact]
    public void LabelPathsMatchWithEitherSlash()
    {
        var lookup = DefectBreakdown.ByPath([new ProductLabel("bottle\\test\\crack\\000.png", DefectCategory.Surface, true)]);

        Assert.Equal(DefectCategory.Surface, lookup("bottle/test/crack/000.png")?.Category);
        Assert.Null(lookup("bottle/test/crack/001.png"));
    }

    [Fact]
    public void ASubsetsMetricsAreTheMetricsOfThoseImagesAlone()
    {
        float[] scores = [0.1f, 0.4f, 0.9f, 0.35f, 0.2f, 0.8f];
        var maps = scores.Select(s => new[] { s, s / 2, 0f, 0f }).ToList();
        var masks = IsAnomalous.Select(a => new[] { a, false, false, false }).ToList();
        var images = new ScoredImages(Names, IsAnomalous, scores, maps, masks, 2, 2);

        var structural = images.Subset(DefectBreakdown.Subsets(Names, IsAnomalous, DefectBreakdown.ByPath(Labels))[1].Indices);

        // Normal 0.1, 0.4 vs structural 0.9, 0.35: 3 of 4 pairs ranked right.
        Assert.Equal(0.75, SetMetrics.Compute(structural).Image.Auroc, 12);
        Assert.Equal(["good/0", "good/1", "crack/0", "crack/1"], structural.Names);
        Assert.Same(maps[2], structural.Maps[2]);
    }
}
