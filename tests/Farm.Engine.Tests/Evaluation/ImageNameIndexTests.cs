using Farm.Engine.Evaluation;

namespace Farm.Engine.Tests.Evaluation;

public class ImageNameIndexTests
{
    private static readonly ImageNameIndex Index = new(["crack/000", "hole/000", "good/001", "img.v2", "widget/test/crack/002"]);

    [Theory]
    [InlineData("crack/000", new[] { 0 })]
    [InlineData("crack/000.png", new[] { 0 })]
    [InlineData("widget/test/crack/000.png", new[] { 0 })]
    [InlineData(@"widget\test\crack\000.npy", new[] { 0 })]
    [InlineData("./crack/000", new[] { 0 })]
    [InlineData("001.jpg", new[] { 2 })]
    [InlineData("000", new[] { 0, 1 })]
    [InlineData("rack/000.png", new int[0])]
    [InlineData("crack/0000.png", new int[0])]
    [InlineData("img.v2", new[] { 3 })]
    [InlineData("img.v2.npy", new[] { 3 })]
    [InlineData("test/crack/002.png", new[] { 4 })]
    [InlineData("crack/002", new[] { 4 })]
    public void MatchesAtFolderBoundariesWithOrWithoutExtension(string csvPath, int[] expected)
    {
        Assert.Equal(expected, Index.Matches(csvPath));
    }

    [Fact]
    public void DuplicateNamesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new ImageNameIndex(["a", "a"]));
    }
}
