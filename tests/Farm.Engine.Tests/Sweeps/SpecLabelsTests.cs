using Farm.Engine.Data;
using Farm.Engine.Sweeps;
using Farm.Engine.Tests.Data;

namespace Farm.Engine.Tests.Sweeps;

public class SpecLabelsTests
{
    private static readonly SpecValidation Known = SpecValidation.Default with { Models = ["padim"] };

    private static string Spec(string labelsLine) => $"""
        name: labelled
        datasets:
          - name: ds
            format: synthetic
            path: data
        {labelsLine}
        models:
          - name: padim
        """;

    [Fact]
    public void LabelsPathResolvesAgainstTheSpecAndReachesEveryCell()
    {
        using var folder = new DataTestFolder();
        ProductLabels.Write(folder.Combine("labels.csv"), [new ProductLabel("w/test/crack/0.png", DefectCategory.Structural, true)]);

        var spec = SpecLoader.Parse(Spec("    labels: labels.csv"), folder.Combine("spec.yaml"), Known);
        var cells = SweepPlan.Expand(spec, _ => ["w"]);

        Assert.Equal(folder.Combine("labels.csv"), spec.Datasets[0].Labels);
        Assert.All(cells, c => Assert.Equal(folder.Combine("labels.csv"), c.LabelsPath));
        Assert.NotEqual(cells[0].ConfigHash, (cells[0] with { LabelsPath = null }).ConfigHash);
    }

    [Fact]
    public void AMissingLabelsFileNamesTheField()
    {
        using var folder = new DataTestFolder();

        var error = Assert.Throws<FarmException>(() =>
            SpecLoader.Parse(Spec("    labels: nope.csv"), folder.Combine("spec.yaml"), Known));

        Assert.Equal("datasets[0].labels", error.Field);
        Assert.Contains("nope.csv", error.Message);
    }

    [Fact]
    public void AMalformedLabelsFileStopsTheSpecWithItsLine()
    {
        using var folder = new DataTestFolder();
        File.WriteAllText(folder.Combine("labels.csv"), "path,category,background\nw/a.png,rust,true\n");

        var error = Assert.Throws<FarmException>(() =>
            SpecLoader.Parse(Spec("    labels: labels.csv"), folder.Combine("spec.yaml"), Known));

        Assert.Contains("labels.csv:2", error.Message);
        Assert.Contains("rust", error.Message);
    }
}
