using Farm.Engine.Data;

namespace Farm.Engine.Tests.Data;

public sealed class ProductLabelsTests : IDisposable
{
    private readonly DataTestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void WriteThenReadGivesTheSameLabels()
    {
        ProductLabel[] labels =
        [
            new("bottle/test/crack/000.png", DefectCategory.Structural, true),
            new("carpet/test/color/001.png", DefectCategory.Contamination, false),
            new("odd,name/test/\"x\"/002.png", DefectCategory.Combined, false),
            new("tile/test/scratch/003.png", DefectCategory.Surface, false),
        ];
        var path = _folder.Combine("labels.csv");

        ProductLabels.Write(path, labels);

        Assert.Equal(labels, ProductLabels.Read(path));
        Assert.StartsWith("path,category,background\nbottle/test/crack/000.png,structural,true\n", File.ReadAllText(path));
    }

    [Fact]
    public void ReadToleratesCaseSpacesBlankLinesAndCrLf()
    {
        var path = _folder.Combine("labels.csv");
        File.WriteAllText(path, "Path,Category,Background\r\n a/test/b/0.png , Surface , TRUE \r\n\r\na\\test\\c\\1.png,combined,false\r\n");

        var labels = ProductLabels.Read(path);

        Assert.Equal(
            [new ProductLabel("a/test/b/0.png", DefectCategory.Surface, true), new ProductLabel("a/test/c/1.png", DefectCategory.Combined, false)],
            labels);
    }

    [Theory]
    [InlineData("path,category,background\nx.png,scratchy,true\n", 2, "category")]
    [InlineData("path,category,background\nx.png,surface,true\ny.png,surface,maybe\n", 3, "background")]
    [InlineData("path,category,background\nx.png,surface,true\n\nx.png,structural,false\n", 4, "path")]
    [InlineData("path,category,background\n,surface,true\n", 2, "path")]
    [InlineData("path,category,background\nx.png,surface\n", 2, null)]
    public void ErrorsNameTheFileLineAndField(string text, int line, string? field)
    {
        var path = _folder.Combine("labels.csv");
        File.WriteAllText(path, text);

        var error = Assert.Throws<FarmException>(() => ProductLabels.Read(path));

        Assert.Equal($"{path}:{line}", error.File);
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void WrongHeaderIsReported()
    {
        var path = _folder.Combine("labels.csv");
        File.WriteAllText(path, "image,kind\nx.png,surface\n");

        var error = Assert.Throws<FarmException>(() => ProductLabels.Read(path));

        Assert.Equal(path, error.File);
        Assert.Contains("header", error.Message);
    }

    [Fact]
    public void CategoryNamesAreTheBenchmarkSpellings()
    {
        Assert.Equal(
            ["structural", "surface", "contamination", "combined"],
            Enum.GetValues<DefectCategory>().Select(ProductLabels.ToCsv));
    }
}
