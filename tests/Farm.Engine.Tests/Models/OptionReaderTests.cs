using Farm.Engine.Models;

namespace Farm.Engine.Tests.Models;

public class OptionReaderTests
{
    private static OptionReader Reader(string layers) =>
        new("padim", new ModelOptions(64, 0, Options: new Dictionary<string, string> { ["layers"] = layers }), ["layers"]);

    [Theory]
    [InlineData("layer1,layer2,layer3", new[] { 1, 2, 3 })]
    [InlineData("2,3", new[] { 2, 3 })]
    [InlineData("layer2 + layer4", new[] { 2, 4 })]
    public void LayersAcceptAnomalibNamesAndNumbers(string text, int[] expected) =>
        Assert.Equal(expected, Reader(text).Layers("layers", [1, 2, 3]));

    [Theory]
    [InlineData("layer5", "not a backbone layer")]
    [InlineData("3,2", "ascending")]
    [InlineData("2,2", "ascending")]
    [InlineData(",", "no layers")]
    public void BadLayersNameTheSetting(string text, string message)
    {
        var error = Assert.Throws<FarmException>(() => Reader(text).Layers("layers", [1, 2, 3]));

        Assert.Equal("layers", error.Field);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void WithoutTheSettingTheDefaultHolds() =>
        Assert.Equal([1, 2, 3], new OptionReader("padim", new ModelOptions(64, 0), ["layers"]).Layers("layers", [1, 2, 3]));
}
